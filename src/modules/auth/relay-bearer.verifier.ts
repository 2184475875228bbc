import { Inject, Injectable, Logger, OnModuleInit, UnauthorizedException } from '@nestjs/common';
import { AuthScheme } from '../../common/auth/auth.decorators';
import { bearerToken, safeEqual } from '../../common/crypto/safe-equal';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { AuthRequest, SchemeVerifier, VerifiesScheme } from './scheme-verifier';

/** What a relay request proved: the shared secret, or nothing (development without a secret). */
export interface RelayPrincipal {
  relay: true;
  mode: 'secret' | 'open';
}

/**
 * `Authorization: Bearer <RELAY_WEBHOOK_SECRET>` (SPEC §5), compared in constant time. Without a
 * secret the relay endpoints are open in development (one loud warning at start-up) and closed
 * in production (config refuses to start there; this is the second line).
 */
@Injectable()
@VerifiesScheme(AuthScheme.RelayBearer)
export class RelayBearerVerifier implements SchemeVerifier, OnModuleInit {
  private readonly logger = new Logger(RelayBearerVerifier.name);

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleInit(): void {
    if (!this.config.auth.relayWebhookSecret && !this.config.isProduction) {
      this.logger.warn(
        'RELAY_WEBHOOK_SECRET is not set: the relay endpoints accept requests WITHOUT ' +
          'authentication (development only; production refuses to start without it)',
      );
    }
  }

  async verify(request: AuthRequest): Promise<RelayPrincipal> {
    const expected = this.config.auth.relayWebhookSecret;
    if (!expected) {
      if (this.config.isProduction) {
        throw new UnauthorizedException('Relay authentication is not configured');
      }
      return { relay: true, mode: 'open' };
    }
    const presented = bearerToken(request.headers.authorization);
    if (!presented) throw new UnauthorizedException('Missing Authorization: Bearer <relay secret>');
    if (!safeEqual(presented, expected)) throw new UnauthorizedException('Invalid relay secret');
    return { relay: true, mode: 'secret' };
  }
}
