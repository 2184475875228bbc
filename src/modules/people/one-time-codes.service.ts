import { createHmac, randomInt } from 'node:crypto';
import { HttpException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import Redis from 'ioredis';
import { EntityManager } from 'typeorm';
import { safeEqual } from '../../common/crypto/safe-equal';
import { RetryLaterException } from '../../common/filters/retry-later.exception';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { CodeDelivery, CodeMessage } from './code-delivery';
import { CodeScope, PeopleRepository } from './people.repository';
import {
  OTP_MAX_ATTEMPTS,
  OTP_SEND_WINDOW_SECONDS,
  OTP_SENDS_PER_WINDOW,
  OTP_TTL_SECONDS,
} from './user-token';

/** Too many codes for one handle or person; `retryAfter` in seconds. */
export class TooManyCodesException extends RetryLaterException {
  constructor(message: string, retryAfter: number) {
    super(message, 429, retryAfter);
  }
}

export interface CodeSent {
  status: 'sent';
  expires_in: number;
}

/** Why a code was not accepted; `refusal()` turns it into the HTTP error. */
export type CodeRefusal =
  | { refused: 'none' }
  | { refused: 'locked' }
  | { refused: 'expired' }
  | { refused: 'wrong'; left: number };

/**
 * One-time codes, for signing in and for linking a handle: 6 digits, stored only as
 * HMAC-SHA256(JWT_SECRET, scope + code), valid 10 minutes and 5 attempts; at most 3 codes per
 * handle per 10 minutes whatever they are for (each costs a text or an email to that
 * destination; a Redis counter, atomic across instances).
 */
@Injectable()
export class OneTimeCodesService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: PeopleRepository,
    private readonly delivery: CodeDelivery,
    private readonly redis: Redis,
  ) {}

  /** See CodeDelivery.ensureDeliverable; for callers that count something of their own first. */
  ensureDeliverable(handle: string): void {
    this.delivery.ensureDeliverable(handle);
  }

  async send(scope: CodeScope, message: (code: string) => CodeMessage): Promise<CodeSent> {
    this.delivery.ensureDeliverable(scope.handle);
    await this.count(
      `otp:sends:${this.hash('sends', scope.handle)}`,
      OTP_SENDS_PER_WINDOW,
      OTP_SEND_WINDOW_SECONDS,
      `At most ${OTP_SENDS_PER_WINDOW} codes per phone or address every ${OTP_SEND_WINDOW_SECONDS / 60} minutes`,
    );
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const id = await this.repo.createChallenge(scope, this.codeHash(scope, code), OTP_TTL_SECONDS);
    try {
      await this.delivery.send(scope.handle, message(code));
    } catch (err) {
      await this.repo.deleteChallenge(id);
      throw err;
    }
    return { status: 'sent', expires_in: OTP_TTL_SECONDS };
  }

  /**
   * Checks a code inside the caller's transaction: the right one is consumed (answers
   * undefined); a wrong one counts an attempt, which the caller must commit before throwing
   * `refusal()`.
   */
  async check(m: EntityManager, scope: CodeScope, code: string): Promise<CodeRefusal | undefined> {
    const challenge = await this.repo.latestChallengeForUpdate(m, scope);
    if (!challenge || challenge.consumedAt) return { refused: 'none' };
    if (challenge.invalidatedAt) {
      return { refused: challenge.attempts >= OTP_MAX_ATTEMPTS ? 'locked' : 'none' };
    }
    if (challenge.expiresAt.getTime() <= Date.now()) return { refused: 'expired' };
    if (!safeEqual(this.codeHash(scope, code), challenge.codeHash)) {
      const attempts = await this.repo.recordWrongAttempt(m, challenge.id, OTP_MAX_ATTEMPTS);
      return { refused: 'wrong', left: Math.max(0, OTP_MAX_ATTEMPTS - attempts) };
    }
    await this.repo.consumeChallenge(m, challenge.id);
    return undefined;
  }

  refusal(outcome: CodeRefusal, noneMessage: string): HttpException {
    switch (outcome.refused) {
      case 'locked':
        return new TooManyCodesException(
          'Too many wrong codes: this code no longer works, request a new one',
          OTP_SEND_WINDOW_SECONDS,
        );
      case 'expired':
        return new UnauthorizedException('The code has expired: request a new one');
      case 'wrong':
        return new UnauthorizedException(
          outcome.left > 0
            ? `Wrong code (${outcome.left} attempt${outcome.left === 1 ? '' : 's'} left)`
            : 'Wrong code: no attempts left, request a new one',
        );
      default:
        return new UnauthorizedException(noneMessage);
    }
  }

  /**
   * A fixed-window counter in Redis: throws a 429 with the time left once `limit` is passed.
   * The key names a hash of the counted value, never the value.
   */
  async count(key: string, limit: number, windowSeconds: number, message: string): Promise<void> {
    const [[, count], , [, ttl]] = (await this.redis
      .multi()
      .incr(key)
      .expire(key, windowSeconds, 'NX')
      .ttl(key)
      .exec()) as [[null, number], [null, number], [null, number]];
    if (count > limit) throw new TooManyCodesException(message, Math.max(1, ttl));
  }

  hash(purpose: string, value: string): string {
    return createHmac('sha256', this.config.auth.jwtSecret)
      .update(`${purpose}:${value}`)
      .digest('hex');
  }

  private codeHash(scope: CodeScope, code: string): string {
    // Sign-in hashes keep their earlier form, so codes sent before an upgrade still work.
    return scope.purpose === 'sign_in'
      ? this.hash('otp', `${scope.handle}:${code}`)
      : this.hash('otp-link', `${scope.userId}:${scope.handle}:${code}`);
  }
}
