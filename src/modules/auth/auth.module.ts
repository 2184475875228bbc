import { Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { AuthRoutesCheck } from './auth-routes.check';
import { AdminKeyVerifier } from './admin-key.verifier';
import { AuthService } from './auth.service';

@Module({
  imports: [DiscoveryModule],
  providers: [
    AuthService,
    AuthRoutesCheck,
    AdminKeyVerifier,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [AuthService],
})
export class AuthModule {}
