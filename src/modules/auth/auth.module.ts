import { Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { AuthRoutesCheck } from './auth-routes.check';
import { AdminKeyVerifier } from './admin-key.verifier';
import { AuthService } from './auth.service';
import { EdgeRegistrationVerifier } from './edge-registration.verifier';
import { EdgeTokenVerifier } from './edge-token.verifier';
import { HmacSignatureVerifier } from './hmac-signature.verifier';
import { RelayBearerVerifier } from './relay-bearer.verifier';

@Module({
  imports: [DiscoveryModule],
  providers: [
    AuthService,
    AuthRoutesCheck,
    AdminKeyVerifier,
    RelayBearerVerifier,
    HmacSignatureVerifier,
    EdgeTokenVerifier,
    EdgeRegistrationVerifier,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [AuthService],
})
export class AuthModule {}
