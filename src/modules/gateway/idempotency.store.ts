import { createHash } from 'node:crypto';
import {
  ConflictException,
  Injectable,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import Redis from 'ioredis';

/** How long a key is remembered (IETF Idempotency-Key draft: at least 24 h is typical). */
const TTL_SECONDS = 24 * 60 * 60;
/** How long a duplicate waits for the first request with the same key to finish. */
const WAIT_MS = 30_000;
const POLL_MS = 100;

interface Entry<T> {
  bodyHash: string;
  state: 'pending' | 'done';
  result?: T;
}

export type IdempotencyClaim<T> = { kind: 'run' } | { kind: 'replay'; result: T };

/**
 * `Idempotency-Key` for /v1/chat, in Redis (TTL 24 h), per client. `SET NX` decides which of
 * two concurrent copies runs; the other waits for its result. The same key with another body
 * is refused with 422 and leaves the stored result untouched. A failed run releases the key.
 */
@Injectable()
export class IdempotencyStore {
  constructor(private readonly redis: Redis) {}

  static bodyHash(body: unknown): string {
    return createHash('sha256').update(JSON.stringify(body)).digest('hex');
  }

  async claim<T>(clientId: string, key: string, bodyHash: string): Promise<IdempotencyClaim<T>> {
    const redisKey = this.redisKey(clientId, key);
    const pending: Entry<T> = { bodyHash, state: 'pending' };
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const set = await this.guard(() =>
        this.redis.set(redisKey, JSON.stringify(pending), 'EX', TTL_SECONDS, 'NX'),
      );
      if (set === 'OK') return { kind: 'run' };
      const raw = await this.guard(() => this.redis.get(redisKey));
      if (raw) {
        const entry = JSON.parse(raw) as Entry<T>;
        if (entry.bodyHash !== bodyHash) {
          throw new UnprocessableEntityException(
            'This Idempotency-Key was already used with a different request body',
          );
        }
        if (entry.state === 'done') return { kind: 'replay', result: entry.result as T };
      }
      // Pending (or released a moment ago: the loop claims it then).
      if (Date.now() > deadline) {
        throw new ConflictException('A request with this Idempotency-Key is still in progress');
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async complete<T>(clientId: string, key: string, bodyHash: string, result: T): Promise<void> {
    const entry: Entry<T> = { bodyHash, state: 'done', result };
    await this.guard(() =>
      this.redis.set(this.redisKey(clientId, key), JSON.stringify(entry), 'EX', TTL_SECONDS),
    );
  }

  async release(clientId: string, key: string): Promise<void> {
    await this.redis.del(this.redisKey(clientId, key)).catch(() => undefined);
  }

  private redisKey(clientId: string, key: string): string {
    return `idempotency:${clientId}:${createHash('sha256').update(key).digest('hex')}`;
  }

  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch {
      throw new ServiceUnavailableException('Idempotency store unavailable; retry shortly');
    }
  }
}
