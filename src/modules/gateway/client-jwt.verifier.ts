import { ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { AuthScheme } from '../../common/auth/auth.decorators';
import { accessTokenRejected, assertAccessTokenClaims } from '../../common/crypto/access-token';
import { bearerToken } from '../../common/crypto/safe-equal';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { RateLimitedClient } from '../../core/rate-limit/rate-limit.options';
import { ApiClientScope } from '../admin-clients/api-clients.repository';
import { AdminClientsService } from '../admin-clients/admin-clients.service';
import { AuthRequest, SchemeVerifier, VerifiesScheme } from '../auth/scheme-verifier';
import {
  CLIENT_TOKEN_ALGORITHM,
  CLIENT_TOKEN_AUDIENCE,
  CLIENT_TOKEN_TYPE,
  CLOCK_TOLERANCE_SECONDS,
  ClientTokenClaims,
} from './client-token';

/** What a verified client token leaves on `request.auth['client-jwt']`. */
export interface ClientPrincipal extends RateLimitedClient {
  clientId: string;
  rateLimitPerMin?: number;
  scopes: ApiClientScope[];
  monthlyTokenBudget: number | null;
}

/**
 * `Authorization: Bearer <client JWT>` from `/auth/token`: HS256 only, `exp` required (checked
 * explicitly: jsonwebtoken only validates it when present), 30 s of clock tolerance, the
 * client-token audience and type required (user tokens are refused). The client's live status
 * (Redis-cached, invalidated on every admin change) must be active and of the token's key
 * generation, so deactivating, deleting or re-keying a client revokes its tokens at once.
 */
@Injectable()
@VerifiesScheme(AuthScheme.ClientJwt)
export class ClientJwtVerifier implements SchemeVerifier {
  /** The passport-jwt strategy: signature, algorithm, audience and times (jsonwebtoken). */
  private readonly strategy: JwtStrategy;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clients: AdminClientsService,
  ) {
    this.strategy = new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKey: config.auth.jwtSecret,
        algorithms: [CLIENT_TOKEN_ALGORITHM],
        audience: CLIENT_TOKEN_AUDIENCE,
        jsonWebTokenOptions: { clockTolerance: CLOCK_TOLERANCE_SECONDS },
      },
      (payload: Partial<ClientTokenClaims>, done: (err: null, user: unknown) => void) =>
        done(null, payload),
    );
  }

  async verify(request: AuthRequest): Promise<ClientPrincipal> {
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new UnauthorizedException('Missing Authorization: Bearer <access token>');
    let claims: Partial<ClientTokenClaims>;
    try {
      claims = await this.authenticate(request);
    } catch (err) {
      throw accessTokenRejected(err);
    }
    assertAccessTokenClaims(claims);
    if (
      claims.typ !== CLIENT_TOKEN_TYPE ||
      typeof claims.sub !== 'string' ||
      !Number.isInteger(claims.gen)
    ) {
      throw new UnauthorizedException('Not an API client token');
    }
    const status = await this.clients.status(claims.sub);
    if (!status || !status.active || status.keyGeneration !== claims.gen) {
      throw new UnauthorizedException('Access token revoked');
    }
    return {
      clientId: claims.sub,
      rateLimitPerMin: status.rateLimitPerMin ?? undefined,
      scopes: status.scopes,
      monthlyTokenBudget: status.monthlyTokenBudget,
    };
  }

  /**
   * Runs the strategy the way passport does (a per-request copy given success/fail/error), so
   * the verification stays one await inside AuthService instead of an Express-style middleware.
   */
  private authenticate(request: AuthRequest): Promise<Partial<ClientTokenClaims>> {
    return new Promise((resolve, reject) => {
      const attempt = Object.create(this.strategy) as JwtStrategy;
      attempt.success = (user: unknown) => resolve(user as Partial<ClientTokenClaims>);
      attempt.fail = (info: unknown) =>
        reject(info instanceof Error ? info : new Error(String(info)));
      attempt.error = (err: Error) => reject(err);
      attempt.authenticate(request as unknown as Parameters<JwtStrategy['authenticate']>[0]);
    });
  }
}

/** The principal of a route guarded by `@Auth(AuthScheme.ClientJwt)`. */
export function clientOf(request: AuthRequest): ClientPrincipal {
  const principal = request.auth?.[AuthScheme.ClientJwt] as ClientPrincipal | undefined;
  if (!principal) throw new ForbiddenException('No API client on this request');
  return principal;
}
