import {
  Inject,
  Injectable,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { AuthScheme } from '../../common/auth/auth.decorators';
import { bearerToken, safeEqual } from '../../common/crypto/safe-equal';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { AuthRequest, SchemeVerifier, VerifiesScheme } from './scheme-verifier';

/** `Authorization: Bearer <ADMIN_API_KEY>`; with no key configured the admin API is off (503). */
@Injectable()
@VerifiesScheme(AuthScheme.Admin)
export class AdminKeyVerifier implements SchemeVerifier {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async verify(request: AuthRequest): Promise<{ admin: true }> {
    const expected = this.config.auth.adminApiKey;
    if (!expected) {
      throw new ServiceUnavailableException('The admin API is disabled: ADMIN_API_KEY is not set');
    }
    const presented = bearerToken(request.headers.authorization);
    if (!presented) throw new UnauthorizedException('Missing Authorization: Bearer <admin key>');
    if (!safeEqual(presented, expected)) throw new UnauthorizedException('Invalid admin key');
    return { admin: true };
  }
}
