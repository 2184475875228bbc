import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { AuthScheme } from '../../common/auth/auth.decorators';
import { safeEqual } from '../../common/crypto/safe-equal';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { EdgePrincipal, EdgeTokenVerifier } from './edge-token.verifier';
import { AuthRequest, SchemeVerifier, VerifiesScheme } from './scheme-verifier';

/**
 * `/edge/register` (EDGE_PROTOCOL §2.4): the Edge token, as on every edge route, or, for the V0
 * client that registers before it has one, no Authorization header and the body's `auth_token`
 * equal to EDGE_REGISTRATION_TOKEN. Registering only records an agent id with its phone and
 * version; everything after it needs the Edge token.
 */
@Injectable()
@VerifiesScheme(AuthScheme.EdgeRegistration)
export class EdgeRegistrationVerifier implements SchemeVerifier {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly edgeToken: EdgeTokenVerifier,
  ) {}

  async verify(request: AuthRequest): Promise<EdgePrincipal> {
    const expected = this.config.auth.edgeRegistrationToken;
    if (request.headers.authorization !== undefined || !expected) {
      return this.edgeToken.verify(request);
    }
    const sent = (request.body as { auth_token?: unknown } | undefined)?.auth_token;
    if (typeof sent !== 'string' || !safeEqual(sent, expected)) {
      throw new UnauthorizedException('Invalid registration token (auth_token)');
    }
    return { agentId: undefined, phone: undefined, mode: 'registration' };
  }
}
