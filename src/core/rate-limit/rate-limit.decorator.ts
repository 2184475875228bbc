import { applyDecorators, UseGuards } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import { ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { RateLimitGuard } from './rate-limit.guard';
import { assertValidRateLimit, RATE_LIMITS, RateLimitOptions } from './rate-limit.options';

/**
 * Declares the route's (or every route of the controller's) rate limits. Routes without it are
 * not limited. Limits stack: pass several, or decorate both the controller and the method (every
 * listed limit must allow the request; a method limit replaces a controller limit of the same
 * name). Also documents the 429 in Swagger.
 *
 * The check runs in a route guard, so always after the global AuthGuard (unauthenticated
 * requests never spend anyone's budget) and before pipes and the handler.
 *
 * Example, the per-sender limit of `POST /orchestrator/message`:
 * `@RateLimit({ name: 'orchestrator', key: 'sender', limit: (c) => c.limits.orchestratorPerMin,
 * ttlSeconds: 60 })`.
 */
export function RateLimit(
  ...limits: [RateLimitOptions, ...RateLimitOptions[]]
): MethodDecorator & ClassDecorator {
  limits.forEach(assertValidRateLimit);
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder: object = descriptor ? (descriptor.value as object) : target;
    const declared = (Reflect.getMetadata(RATE_LIMITS, holder) ?? []) as RateLimitOptions[];
    Reflect.defineMetadata(RATE_LIMITS, [...declared, ...limits], holder);

    const guards = (Reflect.getMetadata(GUARDS_METADATA, holder) ?? []) as unknown[];
    const alreadyGuarded = guards.includes(RateLimitGuard);
    applyDecorators(
      ...(alreadyGuarded ? [] : [UseGuards(RateLimitGuard)]),
      ApiTooManyRequestsResponse({
        description:
          'Rate limit exceeded. `Retry-After` gives the seconds to wait; `X-RateLimit-Limit`, ' +
          '`X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds) come with every response.',
      }),
    )(target, key, descriptor);
  };
}
