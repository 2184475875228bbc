import { Injectable, OnModuleInit, UnauthorizedException } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { AuthScheme } from '../../common/auth/auth.decorators';
import { AuthRequest, SchemeVerifier, VERIFIES_SCHEME } from './scheme-verifier';

/**
 * Verifies requests against the schemes a route declares. Verifiers live with their features and
 * are found at start-up by their `@VerifiesScheme` mark; the WebSocket handshake reuses `verify`.
 */
@Injectable()
export class AuthService implements OnModuleInit {
  private readonly verifiers = new Map<AuthScheme, SchemeVerifier>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as SchemeVerifier | undefined;
      if (!instance || !wrapper.metatype) continue;
      const scheme = Reflect.getMetadata(VERIFIES_SCHEME, wrapper.metatype) as
        AuthScheme | undefined;
      if (!scheme) continue;
      if (this.verifiers.has(scheme)) throw new Error(`Two verifiers for auth scheme ${scheme}`);
      this.verifiers.set(scheme, instance);
    }
  }

  hasVerifier(scheme: AuthScheme): boolean {
    return this.verifiers.has(scheme);
  }

  /** Every scheme must pass; the principals are recorded on `request.auth`. */
  async verify(request: AuthRequest, schemes: readonly AuthScheme[]): Promise<void> {
    request.auth ??= {};
    for (const scheme of schemes) {
      const verifier = this.verifiers.get(scheme);
      // Fail closed: start-up refuses such routes, this is the second line.
      if (!verifier)
        throw new UnauthorizedException(`Authentication scheme ${scheme} is not available`);
      request.auth[scheme] = await verifier.verify(request);
    }
  }
}
