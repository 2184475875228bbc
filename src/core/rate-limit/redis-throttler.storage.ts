import { Injectable } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import Redis from 'ioredis';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * One atomic round trip per hit. KEYS[1] = the counter; ARGV = window ms, limit, block ms.
 *
 * Fixed window from the first hit: INCR, and when the counter has no expiry yet (the first hit of
 * a window, or a key that somehow lost its TTL) PEXPIRE it to the window. With a block duration,
 * the hit that goes over the limit re-arms the counter's expiry to that duration: the tracker is
 * refused until it ends, then starts a fresh window (throttler's `blockDuration` semantics).
 *
 * Known trade-off (RELIABILITY row 14): a fixed window lets up to 2 × limit through within one
 * window length when the bursts straddle an edge (a full limit just before the counter expires,
 * another right after: 60 at t = 59 s and 60 at t = 61 s all pass). A sliding log would be exact
 * but costs a sorted-set entry per request; we accept the 2× burst as the documented outcome
 * (RELIABILITY asks for an alert above 90 per 60 s, which is monitoring's job, not this limiter's).
 */
const HIT_SCRIPT = `
local hits = redis.call('INCR', KEYS[1])
local pttl = redis.call('PTTL', KEYS[1])
if pttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  pttl = tonumber(ARGV[1])
end
local blockMs = tonumber(ARGV[3])
if blockMs > 0 and hits == tonumber(ARGV[2]) + 1 then
  redis.call('PEXPIRE', KEYS[1], blockMs)
  pttl = blockMs
end
return {hits, pttl}
`;

const COMMAND = 'archetyRateLimitHit';

type RedisWithHit = Redis & {
  [COMMAND](key: string, ttlMs: number, limit: number, blockMs: number): Promise<[number, number]>;
};

/**
 * `@nestjs/throttler` storage in Redis, shared by every API instance: N instances enforce one
 * limit, not N (RELIABILITY row 13). Keys are `ratelimit:<throttler name>:<key>` under the
 * deployment's prefix (the app client adds `REDIS_KEY_PREFIX:`); the guard passes a hash of the
 * tracker as `<key>`, so no phone number or e-mail address appears in a key name.
 *
 * `ttl` and `blockDuration` are milliseconds (throttler 6); the record's times are seconds,
 * rounded up, as throttler's own storage reports them.
 *
 * Errors (Redis down, command timeout) propagate: the guard decides to fail open.
 */
@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly redis: Redis) {
    // EVALSHA with a transparent EVAL fallback; the key prefix applies to KEYS.
    redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: HIT_SCRIPT });
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const ttlMs = Math.max(1, Math.ceil(ttl));
    const [totalHits, pttl] = await (this.redis as RedisWithHit)[COMMAND](
      `ratelimit:${throttlerName}:${key}`,
      ttlMs,
      limit,
      Math.max(0, Math.ceil(blockDuration)),
    );
    const seconds = Math.max(1, Math.ceil(pttl / 1000));
    const isBlocked = totalHits > limit;
    return {
      totalHits,
      timeToExpire: seconds,
      isBlocked,
      timeToBlockExpire: isBlocked ? seconds : 0,
    };
  }
}
