import { createHash } from 'node:crypto';
import { ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  ThrottlerStorage,
} from '@nestjs/throttler';
import { AuthScheme } from '../../common/auth/auth.decorators';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import {
  RATE_LIMITS,
  RateLimitedClient,
  RateLimitKey,
  RateLimitOptions,
} from './rate-limit.options';

/** The fields of the (Fastify) request the limiter reads. */
export interface RateLimitRequest {
  body?: unknown;
  ip?: string;
  auth?: Partial<Record<string, unknown>>;
}

/** Who is counted: what the key asked for, or the IP when that is missing from the request. */
export interface Tracker {
  kind: RateLimitKey;
  id: string;
  client?: RateLimitedClient;
}

type StorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Outcome {
  options: RateLimitOptions;
  tracker: Tracker;
  limit: number;
  record: StorageRecord;
}

const SUBJECT: Record<RateLimitKey, string> = {
  sender: 'sender',
  ip: 'IP address',
  client: 'API client',
};

/** Requests already evaluated (a limit on both the controller and the method runs us twice). */
const evaluated = new WeakSet<object>();

/** Fail-open warnings at most this often, with the number of requests let through meanwhile. */
const WARN_EVERY_MS = 10_000;

/**
 * Enforces the `@RateLimit(...)` limits of a route (see rate-limit.decorator.ts) on top of
 * `@nestjs/throttler`'s guard and the Redis storage. Throttler's own model (every module-wide
 * throttler applies to every route unless skipped, headers suffixed with the throttler's name,
 * key = route + IP) does not fit: here a route opts in, names a bucket shared across routes,
 * counts a sender or a client rather than an IP, and answers with the plain header names.
 *
 * Headers on every limited response: `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
 * `X-RateLimit-Reset` (seconds) of the tightest limit; on 429 those of the limit that tripped
 * (the longest wait when several did) plus `Retry-After` (seconds, 1..window).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override logger = new Logger(RateLimitGuard.name);
  private lastWarningAt = 0;
  private uncheckedSinceWarning = 0;

  // Every parameter names its token: Nest's parameter-injection metadata is inherited from
  // ThrottlerGuard (options, storage at 0, 1), and only explicit entries override it.
  constructor(
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    @Inject(Reflector) reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super({ throttlers: [] }, storage, reflector);
  }

  /** Limits are declared per route; there are no module-wide throttlers to set up. */
  override async onModuleInit(): Promise<void> {}

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const limits = this.limitsOf(context);
    if (!limits.length) return true;
    const { req, res } = this.getRequestResponse(context);
    if (evaluated.has(req)) return true;
    evaluated.add(req);

    const ip = (await this.getTracker(req)) ?? 'unknown';
    let outcomes: Outcome[];
    try {
      outcomes = await Promise.all(
        limits.map((options) => this.hit(context, options, req as RateLimitRequest, ip)),
      );
    } catch (err) {
      // Availability over strictness: with Redis down (the app client gives up after its 3 s
      // command timeout, so a request never hangs here) the request goes through unlimited.
      this.failOpen(err);
      return true;
    }

    const tripped = outcomes
      .filter((o) => o.record.isBlocked)
      .sort((a, b) => b.record.timeToBlockExpire - a.record.timeToBlockExpire)[0];
    const shown =
      tripped ??
      outcomes.reduce((tightest, o) => (remaining(o) < remaining(tightest) ? o : tightest));
    this.setResponseHeader(res, 'X-RateLimit-Limit', shown.limit);
    this.setResponseHeader(res, 'X-RateLimit-Remaining', remaining(shown));
    this.setResponseHeader(res, 'X-RateLimit-Reset', shown.record.timeToExpire);
    if (!tripped) return true;

    const retryAfter = Math.min(
      Math.max(1, tripped.record.timeToBlockExpire),
      tripped.options.ttlSeconds,
    );
    this.setResponseHeader(res, 'Retry-After', retryAfter);
    throw new ThrottlerException(
      `Rate limit exceeded: ${tripped.limit} requests per ${tripped.options.ttlSeconds} s ` +
        `for this ${SUBJECT[tripped.tracker.kind]}`,
    );
  }

  /**
   * The bucket key: a hash of the tracker, so no phone number or e-mail lands in Redis. Neither
   * the route nor the name goes in: a bucket is shared by every route declaring its name, and
   * the storage puts the name in the Redis key.
   */
  protected override generateKey(
    _context: ExecutionContext,
    tracker: string,
    _name: string,
  ): string {
    return createHash('sha256').update(tracker).digest('hex').slice(0, 32);
  }

  /** Controller limits plus method limits; a method limit replaces a controller one by name. */
  private limitsOf(context: ExecutionContext): RateLimitOptions[] {
    const byName = new Map<string, RateLimitOptions>();
    for (const target of [context.getClass(), context.getHandler()]) {
      const declared = this.reflector.get<RateLimitOptions[] | undefined>(RATE_LIMITS, target);
      for (const options of declared ?? []) byName.set(options.name, options);
    }
    return [...byName.values()];
  }

  private async hit(
    context: ExecutionContext,
    options: RateLimitOptions,
    req: RateLimitRequest,
    ip: string,
  ): Promise<Outcome> {
    const tracker = trackerFor(options.key, req, ip);
    const limit = limitFor(options, this.config, tracker);
    const key = this.generateKey(context, `${tracker.kind}:${tracker.id}`, options.name);
    // blockDuration 0: a tripped tracker waits for its window to end, not longer.
    const record = await this.storageService.increment(
      key,
      options.ttlSeconds * 1000,
      limit,
      0,
      options.name,
    );
    return { options, tracker, limit, record };
  }

  private failOpen(err: unknown): void {
    this.uncheckedSinceWarning++;
    const now = Date.now();
    if (now - this.lastWarningAt < WARN_EVERY_MS) return;
    this.logger.warn(
      `rate limits not enforced (failing open), ${this.uncheckedSinceWarning} request(s) ` +
        `let through unchecked: ${err instanceof Error ? err.message : String(err)}`,
    );
    this.lastWarningAt = now;
    this.uncheckedSinceWarning = 0;
  }
}

function remaining(outcome: Outcome): number {
  return Math.max(0, outcome.limit - outcome.record.totalHits);
}

/** Who a request counts against for a key; falls back to the IP when the request lacks it. */
export function trackerFor(key: RateLimitKey, req: RateLimitRequest, ip: string): Tracker {
  if (key === 'sender') {
    const sender = (req.body as { sender?: unknown } | null | undefined)?.sender;
    // E.164 numbers are unaffected by case; Apple ID e-mail addresses are case-insensitive.
    const id = typeof sender === 'string' ? sender.trim().toLowerCase() : '';
    if (id) return { kind: 'sender', id };
  }
  if (key === 'client') {
    const client = req.auth?.[AuthScheme.ClientJwt] as Partial<RateLimitedClient> | undefined;
    if (typeof client?.clientId === 'string' && client.clientId) {
      return { kind: 'client', id: client.clientId, client: client as RateLimitedClient };
    }
  }
  return { kind: 'ip', id: ip };
}

/** The limit for this tracker: the client's own override when the options allow it. */
export function limitFor(options: RateLimitOptions, config: AppConfig, tracker: Tracker): number {
  const override = tracker.client?.rateLimitPerMin;
  if (options.clientOverride && Number.isInteger(override) && override! > 0) return override!;
  return typeof options.limit === 'function' ? options.limit(config) : options.limit;
}
