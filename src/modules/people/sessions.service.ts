import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import * as jwt from 'jsonwebtoken';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { PeopleRepository } from './people.repository';
import {
  REFRESH_TOKEN_TTL_SECONDS,
  USER_TOKEN_ALGORITHM,
  USER_TOKEN_AUDIENCE,
  USER_TOKEN_TTL_SECONDS,
  USER_TOKEN_TYPE,
} from './user-token';

export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  user_id: string;
  expires_in: number;
}

/** Refresh tokens are 256 random bits, so a plain SHA-256 is a safe way to store them. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * People's sessions: a session is a family of refresh tokens. Each refresh spends one token and
 * issues the next; a spent token presented again means it was stolen (or replayed), and the whole
 * family is revoked. Access tokens (15 min) name their family in `sid`, and the UserJwt verifier
 * checks the family on every request, so logout and revocation end them at once.
 */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: PeopleRepository,
  ) {}

  /** A new session for the person, inside the caller's transaction. */
  async start(m: EntityManager, userId: string): Promise<IssuedTokens> {
    return this.issue(m, userId, randomUUID());
  }

  async refresh(refreshToken: string): Promise<IssuedTokens> {
    const outcome = await this.repo.transaction(async (m) => {
      const row = await this.repo.refreshForUpdate(m, hashRefreshToken(refreshToken));
      if (!row) return 'unknown' as const;
      if (row.revokedAt) return 'revoked' as const;
      if (row.usedAt) {
        await this.repo.revokeFamily(m, row.familyId);
        this.logger.warn(`Refresh token reuse: session ${row.familyId} revoked`);
        return 'reused' as const;
      }
      if (row.expiresAt.getTime() <= Date.now()) return 'expired' as const;
      await this.repo.markUsed(m, row.id);
      return this.issue(m, row.userId, row.familyId);
    });
    if (typeof outcome !== 'string') return outcome;
    const messages = {
      unknown: 'Unknown refresh token',
      revoked: 'Session revoked',
      reused: 'Refresh token already used: the session has been revoked',
      expired: 'Refresh token expired',
    };
    throw new UnauthorizedException(messages[outcome]);
  }

  async revoke(familyId: string): Promise<void> {
    await this.repo.revokeFamily(undefined, familyId);
  }

  alive(userId: string, familyId: string): Promise<boolean> {
    return this.repo.sessionAlive(userId, familyId);
  }

  private async issue(m: EntityManager, userId: string, familyId: string): Promise<IssuedTokens> {
    const refresh = randomBytes(32).toString('base64url');
    await this.repo.insertRefresh(m, {
      userId,
      familyId,
      tokenHash: hashRefreshToken(refresh),
      ttlSeconds: REFRESH_TOKEN_TTL_SECONDS,
    });
    const access = jwt.sign({ sid: familyId, typ: USER_TOKEN_TYPE }, this.config.auth.jwtSecret, {
      algorithm: USER_TOKEN_ALGORITHM,
      audience: USER_TOKEN_AUDIENCE,
      subject: userId,
      jwtid: randomUUID(),
      expiresIn: USER_TOKEN_TTL_SECONDS,
    });
    return {
      access_token: access,
      refresh_token: refresh,
      user_id: userId,
      expires_in: USER_TOKEN_TTL_SECONDS,
    };
  }
}
