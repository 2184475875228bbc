import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { MetricsService } from '../../core/metrics/metrics.service';

export interface CacheScope {
  personaId: string;
  model: string;
  userId: string;
  roomId: string;
}

/**
 * Replies cached in Redis by the full prompt. The key covers persona, model and the person and
 * room it was written for, so a reply (which may carry someone's memories) is only ever reused
 * for an identical prompt to the same person in the same room. Replies that called tools are not
 * cached: reusing them would skip the tools' effects.
 */
@Injectable()
export class ResponseCacheService {
  private readonly logger = new Logger(ResponseCacheService.name);

  constructor(
    private readonly redis: Redis,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** RESPONSE_CACHE_TTL_SECONDS=0 turns the cache off. */
  get enabled(): boolean {
    return this.config.cache.responseTtlSeconds > 0;
  }

  key(scope: CacheScope, prompt: unknown): string {
    const promptHash = createHash('sha256').update(JSON.stringify(prompt)).digest('hex');
    return `cache:reply:${scope.personaId}:${scope.model}:${scope.userId}:${scope.roomId}:${promptHash}`;
  }

  /**
   * Drops every reply cached for a person (they were erased, or merged into someone else).
   * Unlike the reads, a failure here is the caller's: forgetting must not silently half-happen.
   */
  async forgetPerson(userId: string): Promise<number> {
    // SCAN's pattern and answers carry the client's key prefix; DEL adds it again.
    const prefix = `${this.config.redis.keyPrefix}:`;
    const stream = this.redis.scanStream({
      match: `${prefix}cache:reply:*:${userId}:*`,
      count: 500,
    });
    let removed = 0;
    for await (const keys of stream as AsyncIterable<string[]>) {
      if (!keys.length) continue;
      removed += await this.redis.del(...keys.map((key) => key.slice(prefix.length)));
    }
    return removed;
  }

  async get(key: string): Promise<string | undefined> {
    // A cache that cannot answer is a miss, never a failed turn.
    const value = await this.redis.get(key).catch((err: Error) => {
      this.logger.warn(`response cache read failed: ${err.message}`);
      return null;
    });
    this.metrics.observeCacheLookup(value !== null);
    return value ?? undefined;
  }

  async set(key: string, reply: string): Promise<void> {
    await this.redis
      .set(key, reply, 'EX', this.config.cache.responseTtlSeconds)
      .catch((err: Error) => {
        this.logger.warn(`response cache write failed: ${err.message}`);
      });
  }
}
