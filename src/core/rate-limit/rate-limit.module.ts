import { Global, Module } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { RedisThrottlerStorage } from './redis-throttler.storage';

/**
 * Rate limiting for the API: the Redis-backed throttler storage shared by every instance, which
 * the `RateLimitGuard` that `@RateLimit(...)` puts on a route needs. Global, so any feature
 * module's controllers can use `@RateLimit` without importing it. Imported by AppModule only
 * (workers serve no HTTP).
 */
@Global()
@Module({
  providers: [{ provide: ThrottlerStorage, useClass: RedisThrottlerStorage }],
  exports: [ThrottlerStorage],
})
export class RateLimitModule {}
