import { UnauthorizedException } from '@nestjs/common';
import * as jwt from 'jsonwebtoken';

/** The JWT claims every access token of ours carries (RFC 8725: exp checked explicitly). */
export interface AccessTokenClaims {
  exp: number;
  iat: number;
  jti: string;
}

/** Why a token failed jsonwebtoken's checks, as the 401 a client gets (never the token). */
export function accessTokenRejected(err: unknown): UnauthorizedException {
  const reason =
    err instanceof jwt.TokenExpiredError
      ? 'expired'
      : err instanceof jwt.NotBeforeError
        ? 'not yet valid'
        : 'invalid';
  return new UnauthorizedException(`Access token ${reason}`);
}

/**
 * jsonwebtoken validates `exp` only when present: a token without it (or without `iat`/`jti`)
 * would never expire, so it is refused here.
 */
export function assertAccessTokenClaims<T extends Partial<AccessTokenClaims>>(
  claims: T,
): asserts claims is T & AccessTokenClaims {
  if (typeof claims.exp !== 'number') throw new UnauthorizedException('Access token has no exp');
  if (typeof claims.iat !== 'number' || typeof claims.jti !== 'string') {
    throw new UnauthorizedException('Access token lacks iat or jti');
  }
}
