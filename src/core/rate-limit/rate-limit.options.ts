import { AppConfig } from '../config/app-config';

/**
 * Who a limit counts:
 * - `sender`: the JSON body's `sender` (trimmed, lower-cased), else the client IP;
 * - `ip`: the client IP (as Fastify resolves it, IPv6 grouped by /64);
 * - `client`: the API client on `request.auth['client-jwt'].clientId`, else the client IP.
 */
export type RateLimitKey = 'sender' | 'ip' | 'client';

export interface RateLimitOptions {
  /**
   * The bucket's name (lower-case letters, digits, dashes). Every route that declares the same
   * name shares one bucket per tracker, e.g. `client` on every /v1 route.
   */
  name: string;
  key: RateLimitKey;
  /** Requests allowed per window: a number, or read from the configuration. */
  limit: number | ((config: AppConfig) => number);
  /** The window, in whole seconds, starting at the tracker's first request (fixed window). */
  ttlSeconds: number;
  /**
   * Only with `key: 'client'`: a client whose principal carries `rateLimitPerMin` gets that
   * limit instead of `limit` (per-client override set by an admin).
   */
  clientOverride?: boolean;
}

/** What the client-JWT verifier leaves on `request.auth['client-jwt']` (the fields read here). */
export interface RateLimitedClient {
  clientId: string;
  rateLimitPerMin?: number;
}

export const RATE_LIMITS = 'archety:rate-limits';

const NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Fails at start-up (decoration time) on a limit that could never work. */
export function assertValidRateLimit(options: RateLimitOptions): void {
  const where = `@RateLimit(${JSON.stringify(options.name)})`;
  if (!NAME.test(options.name)) {
    throw new Error(`${where}: name must be lower-case letters, digits and dashes`);
  }
  if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1) {
    throw new Error(`${where}: ttlSeconds must be a positive integer`);
  }
  if (
    typeof options.limit === 'number' &&
    (!Number.isInteger(options.limit) || options.limit < 1)
  ) {
    throw new Error(`${where}: limit must be a positive integer`);
  }
  if (options.clientOverride && options.key !== 'client') {
    throw new Error(`${where}: clientOverride needs key 'client'`);
  }
}
