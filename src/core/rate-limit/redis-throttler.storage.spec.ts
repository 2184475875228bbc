import { randomUUID } from 'node:crypto';
import { AddressInfo, createServer, Socket } from 'node:net';
import Redis from 'ioredis';
import { loadConfig } from '../config/app-config';
import { createRedisConnection } from '../redis/redis.factory';
import { RedisThrottlerStorage } from './redis-throttler.storage';

// Real Redis (the one the e2e suite uses), on a key prefix of this file's own.
// eslint-disable-next-line no-restricted-properties -- a test's own connection, not app config
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RedisThrottlerStorage (real Redis)', () => {
  const prefix = `test-ratelimit-${randomUUID().slice(0, 8)}:`;
  let redis: Redis;
  let storage: RedisThrottlerStorage;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: 1 });
    storage = new RedisThrottlerStorage(redis);
  });

  afterAll(async () => {
    const plain = new Redis(REDIS_URL);
    const keys = await plain.keys(`${prefix}*`);
    if (keys.length) await plain.del(...keys);
    plain.disconnect();
    redis.disconnect();
  });

  it('counts hits in one window and blocks past the limit, with times in seconds', async () => {
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await storage.increment('k1', 60_000, 3, 0, 'count'));
    expect(results.map((r) => r.totalHits)).toEqual([1, 2, 3, 4]);
    expect(results.map((r) => r.isBlocked)).toEqual([false, false, false, true]);
    for (const r of results) {
      expect(r.timeToExpire).toBeGreaterThanOrEqual(59);
      expect(r.timeToExpire).toBeLessThanOrEqual(60);
    }
    expect(results[2].timeToBlockExpire).toBe(0);
    expect(results[3].timeToBlockExpire).toBe(results[3].timeToExpire);
  });

  it('stores the counter as ratelimit:<throttler>:<key> under the client prefix, with a TTL', async () => {
    await storage.increment('k2', 60_000, 3, 0, 'named');
    const plain = new Redis(REDIS_URL);
    try {
      expect(await plain.get(`${prefix}ratelimit:named:k2`)).toBe('1');
      const pttl = await plain.pttl(`${prefix}ratelimit:named:k2`);
      expect(pttl).toBeGreaterThan(59_000);
      expect(pttl).toBeLessThanOrEqual(60_000);
    } finally {
      plain.disconnect();
    }
  });

  it('keeps buckets of different throttler names and keys apart', async () => {
    await storage.increment('k3', 60_000, 1, 0, 'a');
    expect((await storage.increment('k3', 60_000, 1, 0, 'b')).totalHits).toBe(1);
    expect((await storage.increment('k4', 60_000, 1, 0, 'a')).totalHits).toBe(1);
    expect((await storage.increment('k3', 60_000, 1, 0, 'a')).isBlocked).toBe(true);
  });

  it('is a fixed window from the first hit: later hits do not extend it; it expires', async () => {
    const first = await storage.increment('k5', 400, 2, 0, 'expiry');
    await sleep(150);
    await storage.increment('k5', 400, 2, 0, 'expiry');
    const pttl = await redis.pttl('ratelimit:expiry:k5');
    expect(pttl).toBeLessThanOrEqual(260); // 400 - 150 (and some): the hit did not re-arm it
    expect((await storage.increment('k5', 400, 2, 0, 'expiry')).isBlocked).toBe(true);
    expect(first.timeToExpire).toBe(1); // rounded up to whole seconds
    await sleep(350);
    const fresh = await storage.increment('k5', 400, 2, 0, 'expiry');
    expect(fresh).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('with a block duration, the over-limit hit blocks for that long, then a fresh window', async () => {
    await storage.increment('k6', 60_000, 1, 300, 'block');
    const tripped = await storage.increment('k6', 60_000, 1, 300, 'block');
    expect(tripped).toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
    expect(await redis.pttl('ratelimit:block:k6')).toBeLessThanOrEqual(300);
    expect((await storage.increment('k6', 60_000, 1, 300, 'block')).isBlocked).toBe(true);
    await sleep(350);
    expect(await storage.increment('k6', 60_000, 1, 300, 'block')).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  });

  it('repairs a counter that lost its expiry instead of blocking forever', async () => {
    await redis.set('ratelimit:repair:k7', '5');
    const record = await storage.increment('k7', 60_000, 3, 0, 'repair');
    expect(record.isBlocked).toBe(true);
    expect(await redis.pttl('ratelimit:repair:k7')).toBeGreaterThan(0);
  });

  it('is atomic: of 200 concurrent hits on separate connections, exactly `limit` pass', async () => {
    const clients = Array.from(
      { length: 8 },
      () => new Redis(REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: 1 }),
    );
    try {
      const storages = clients.map((c) => new RedisThrottlerStorage(c));
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          storages[i % storages.length].increment('k8', 60_000, 37, 0, 'race'),
        ),
      );
      expect(results.filter((r) => !r.isBlocked)).toHaveLength(37);
      expect(new Set(results.map((r) => r.totalHits)).size).toBe(200); // every hit counted once
      expect(await redis.get('ratelimit:race:k8')).toBe('200');
    } finally {
      clients.forEach((c) => c.disconnect());
    }
  });

  it('never hangs on an outage: the app client fails refused and unanswered commands in ≤ 3 s', async () => {
    // One Redis port refuses connections; the other accepts them and never answers (a hung
    // server or a black-holed network). The app's client settings must bound both.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    const appClient = (url: string) =>
      createRedisConnection(
        loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), REDIS_URL: url }),
        'rate-limit-test',
      );
    const refused = appClient('redis://127.0.0.1:1');
    const hung = appClient(`redis://127.0.0.1:${silentPort}`);
    try {
      const timed = async (client: Redis) => {
        const started = Date.now();
        const error = await new RedisThrottlerStorage(client)
          .increment('k9', 60_000, 3, 0, 'down')
          .then(
            () => undefined,
            (err: Error) => err,
          );
        return { error, ms: Date.now() - started };
      };
      const [a, b] = await Promise.all([timed(refused), timed(hung)]);
      expect(a.error).toBeInstanceOf(Error);
      expect(b.error?.message).toMatch(/timed out/i);
      expect(a.ms).toBeLessThan(3500);
      expect(b.ms).toBeLessThan(3500);
    } finally {
      refused.disconnect();
      hung.disconnect();
      sockets.forEach((s) => s.destroy());
      silent.close();
      // ioredis keeps its 5 s connect timer and a 2 s socket-close fallback running after
      // disconnect(); let them end here rather than hold Jest open after the run.
      await sleep(2100);
    }
  });
});
