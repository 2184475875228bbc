import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleInit, UnauthorizedException } from '@nestjs/common';
import * as bcrypt from 'bcryptjs';
import Redis from 'ioredis';
import * as jwt from 'jsonwebtoken';
import { RetryLaterException } from '../../common/filters/retry-later.exception';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { BCRYPT_COST, keyPrefix, looksLikeApiKey } from '../admin-clients/api-key';
import { ApiClientsRepository } from '../admin-clients/api-clients.repository';
import { CLIENT_TOKEN_ALGORITHM, CLIENT_TOKEN_AUDIENCE, CLIENT_TOKEN_TYPE } from './client-token';

/** Failed exchanges allowed per IP per window, counted in Redis (successes are not counted). */
export const TOKEN_FAILURES_LIMIT = 20;
export const TOKEN_FAILURES_WINDOW_SECONDS = 600;

export interface IssuedToken {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
}

/** Too many failed exchanges from one IP; `retryAfter` in seconds. */
export class TooManyFailuresException extends RetryLaterException {
  constructor(retryAfter: number) {
    super(
      `Too many failed key exchanges from this address; retry in ${retryAfter} s`,
      429,
      retryAfter,
    );
  }
}

/** `POST /auth/token`: an API key for a short-lived client JWT. */
@Injectable()
export class TokenService implements OnModuleInit {
  /** Compared against when the prefix is unknown, so a wrong key costs what a right one does. */
  private dummyHash = '';

  constructor(
    private readonly clients: ApiClientsRepository,
    private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.dummyHash = await bcrypt.hash(`ak_${randomUUID()}${randomUUID()}`, BCRYPT_COST);
  }

  async exchange(apiKey: string, ip: string): Promise<IssuedToken> {
    const failuresKey = `token-failures:${ip}`;
    const failures = Number(await this.redis.get(failuresKey).catch(() => 0));
    if (failures >= TOKEN_FAILURES_LIMIT) {
      const ttl = await this.redis.ttl(failuresKey).catch(() => TOKEN_FAILURES_WINDOW_SECONDS);
      throw new TooManyFailuresException(Math.max(1, ttl));
    }

    const candidate = looksLikeApiKey(apiKey)
      ? await this.clients.findByPrefix(keyPrefix(apiKey))
      : undefined;
    // Always one bcrypt comparison, known prefix or not.
    const matches = await bcrypt.compare(apiKey, candidate?.keyHash ?? this.dummyHash);
    if (!candidate || !matches || !candidate.active) {
      await this.redis
        .multi()
        .set(failuresKey, '0', 'EX', TOKEN_FAILURES_WINDOW_SECONDS, 'NX')
        .incr(failuresKey)
        .exec()
        .catch(() => undefined);
      throw new UnauthorizedException('Invalid or revoked API key');
    }

    await this.clients.touch(candidate.id);
    const expiresIn = this.config.auth.jwtExpirySeconds;
    const token = jwt.sign(
      { typ: CLIENT_TOKEN_TYPE, gen: candidate.keyGeneration },
      this.config.auth.jwtSecret,
      {
        algorithm: CLIENT_TOKEN_ALGORITHM,
        expiresIn,
        subject: candidate.id,
        audience: CLIENT_TOKEN_AUDIENCE,
        jwtid: randomUUID(),
      },
    );
    return { access_token: token, token_type: 'bearer', expires_in: expiresIn };
  }
}
