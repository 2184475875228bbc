import { ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import * as jwt from 'jsonwebtoken';
import { AuthScheme } from '../../common/auth/auth.decorators';
import { accessTokenRejected, assertAccessTokenClaims } from '../../common/crypto/access-token';
import { bearerToken, safeEqual } from '../../common/crypto/safe-equal';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { AuthRequest, SchemeVerifier, VerifiesScheme } from '../auth/scheme-verifier';
import { SessionsService } from './sessions.service';
import {
  CLOCK_TOLERANCE_SECONDS,
  cookieNames,
  parseCookies,
  USER_TOKEN_ALGORITHM,
  USER_TOKEN_AUDIENCE,
  USER_TOKEN_TYPE,
  UserTokenClaims,
} from './user-token';

/** What a verified user token leaves on `request.auth['user-jwt']`. */
export interface UserPrincipal {
  userId: string;
  sessionId: string;
  /** True when the token came from the cookie (CSRF applies), false for a Bearer header. */
  viaCookie: boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-csrf-token';

/**
 * Double-submit check: the `X-CSRF-Token` header must equal the CSRF cookie. Required on every
 * mutating request that a cookie authenticates (a Bearer header cannot be forged cross-site).
 */
export function assertCsrf(request: AuthRequest, config: AppConfig): void {
  const method = ((request as { method?: string }).method ?? 'GET').toUpperCase();
  if (SAFE_METHODS.has(method)) return;
  const cookie = parseCookies(request.headers.cookie)[cookieNames(config).csrf];
  const header = request.headers[CSRF_HEADER];
  if (!cookie || typeof header !== 'string' || !header) {
    throw new ForbiddenException('Missing CSRF token: send X-CSRF-Token from GET /auth/csrf-token');
  }
  if (!safeEqual(header, cookie)) throw new ForbiddenException('CSRF token mismatch');
}

/**
 * A person's access token, from `Authorization: Bearer` or else the HTTP-only access cookie:
 * HS256 only, `exp` required, 30 s clock tolerance, the user audience and type required (API
 * client tokens are refused), and its session must still be alive (logout and reuse detection
 * end it at once). Cookie-authenticated mutating requests must pass the CSRF check.
 */
@Injectable()
@VerifiesScheme(AuthScheme.UserJwt)
export class UserJwtVerifier implements SchemeVerifier {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessions: SessionsService,
  ) {}

  async verify(request: AuthRequest): Promise<UserPrincipal> {
    let token = bearerToken(request.headers.authorization);
    const viaCookie = !token;
    if (!token) token = parseCookies(request.headers.cookie)[cookieNames(this.config).access];
    if (!token) {
      throw new UnauthorizedException('Not signed in: no Bearer token and no session cookie');
    }
    let claims: Partial<UserTokenClaims>;
    try {
      const decoded = jwt.verify(token, this.config.auth.jwtSecret, {
        algorithms: [USER_TOKEN_ALGORITHM],
        audience: USER_TOKEN_AUDIENCE,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      if (typeof decoded === 'string') throw new Error('not a JSON payload');
      claims = decoded as Partial<UserTokenClaims>;
    } catch (err) {
      throw accessTokenRejected(err);
    }
    assertAccessTokenClaims(claims);
    if (
      claims.typ !== USER_TOKEN_TYPE ||
      typeof claims.sub !== 'string' ||
      typeof claims.sid !== 'string'
    ) {
      throw new UnauthorizedException('Not a user access token');
    }
    if (viaCookie) assertCsrf(request, this.config);
    if (!(await this.sessions.alive(claims.sub, claims.sid))) {
      throw new UnauthorizedException('Session ended: sign in again');
    }
    return { userId: claims.sub, sessionId: claims.sid, viaCookie };
  }
}

/** The principal of a route guarded by `@Auth(AuthScheme.UserJwt)`. */
export function userOf(request: AuthRequest): UserPrincipal {
  const principal = request.auth?.[AuthScheme.UserJwt] as UserPrincipal | undefined;
  if (!principal) throw new ForbiddenException('No person on this request');
  return principal;
}
