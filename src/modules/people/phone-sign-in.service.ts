import { createHmac, randomInt } from 'node:crypto';
import {
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import Redis from 'ioredis';
import { safeEqual } from '../../common/crypto/safe-equal';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { PeopleRepository } from './people.repository';
import { IssuedTokens, SessionsService } from './sessions.service';
import { SMS_SENDER, SmsSender } from './sms/sms-sender';
import {
  OTP_MAX_ATTEMPTS,
  OTP_SEND_WINDOW_SECONDS,
  OTP_SENDS_PER_WINDOW,
  OTP_TTL_SECONDS,
} from './user-token';

/** A 429 that knows how long to wait (the controller puts it in `Retry-After`). */
export class TooManyCodesException extends HttpException {
  constructor(
    message: string,
    readonly retryAfter: number,
  ) {
    super(message, HttpStatus.TOO_MANY_REQUESTS);
  }
}

export interface StartResult {
  status: 'sent';
  expires_in: number;
}

/**
 * Phone sign-in with one-time codes: 6 digits, stored only as HMAC-SHA256(JWT_SECRET, phone +
 * code), valid 10 minutes and 5 attempts; at most 3 codes per phone per 10 minutes (a Redis
 * counter, atomic across instances). The answer to `start` never depends on whether the phone
 * belongs to someone already.
 */
@Injectable()
export class PhoneSignInService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SMS_SENDER) private readonly sms: SmsSender,
    private readonly repo: PeopleRepository,
    private readonly sessions: SessionsService,
    private readonly redis: Redis,
  ) {}

  async start(phone: string): Promise<StartResult> {
    const key = `otp:sends:${this.hash('sends', phone)}`;
    const [[, count], [, ttl]] = (await this.redis
      .multi()
      .incr(key)
      .expire(key, OTP_SEND_WINDOW_SECONDS, 'NX')
      .ttl(key)
      .exec()) as [[null, number], [null, number], [null, number]];
    if (count > OTP_SENDS_PER_WINDOW) {
      throw new TooManyCodesException(
        `At most ${OTP_SENDS_PER_WINDOW} codes per phone every ${OTP_SEND_WINDOW_SECONDS / 60} minutes`,
        Math.max(1, ttl),
      );
    }
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const id = await this.repo.createChallenge(phone, this.codeHash(phone, code), OTP_TTL_SECONDS);
    try {
      await this.sms.send(phone, `Your Archety code is ${code}. It expires in 10 minutes.`);
    } catch (err) {
      await this.repo.deleteChallenge(id);
      throw err;
    }
    return { status: 'sent', expires_in: OTP_TTL_SECONDS };
  }

  async confirm(phone: string, code: string, name: string | undefined): Promise<IssuedTokens> {
    const outcome = await this.repo.transaction(async (m) => {
      const challenge = await this.repo.latestChallengeForUpdate(m, phone);
      if (!challenge || challenge.consumedAt) return { refused: 'none' as const };
      if (challenge.invalidatedAt) {
        return {
          refused: challenge.attempts >= OTP_MAX_ATTEMPTS ? ('locked' as const) : ('none' as const),
        };
      }
      if (challenge.expiresAt.getTime() <= Date.now()) return { refused: 'expired' as const };
      if (!safeEqual(this.codeHash(phone, code), challenge.codeHash)) {
        const attempts = await this.repo.recordWrongAttempt(m, challenge.id, OTP_MAX_ATTEMPTS);
        return { refused: 'wrong' as const, left: Math.max(0, OTP_MAX_ATTEMPTS - attempts) };
      }
      await this.repo.consumeChallenge(m, challenge.id);
      const person = await this.repo.findOrCreatePerson(m, phone, name);
      return { tokens: await this.sessions.start(m, person.id) };
    });
    if (outcome.tokens) return outcome.tokens;
    switch (outcome.refused) {
      case 'locked':
        throw new TooManyCodesException(
          'Too many wrong codes: this code no longer works, request a new one',
          OTP_SEND_WINDOW_SECONDS,
        );
      case 'expired':
        throw new UnauthorizedException('The code has expired: request a new one');
      case 'wrong':
        throw new UnauthorizedException(
          outcome.left > 0
            ? `Wrong code (${outcome.left} attempt${outcome.left === 1 ? '' : 's'} left)`
            : 'Wrong code: no attempts left, request a new one',
        );
      default:
        throw new UnauthorizedException('No code is pending for this phone: request one first');
    }
  }

  private codeHash(phone: string, code: string): string {
    return this.hash('otp', `${phone}:${code}`);
  }

  private hash(purpose: string, value: string): string {
    return createHmac('sha256', this.config.auth.jwtSecret)
      .update(`${purpose}:${value}`)
      .digest('hex');
  }
}
