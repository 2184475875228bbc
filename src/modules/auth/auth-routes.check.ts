import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { AUTH_SCHEMES, AuthScheme, PUBLIC_ROUTE } from '../../common/auth/auth.decorators';
import { AuthService } from './auth.service';

/**
 * Secure by default, checked before the first request: start-up fails naming every route that
 * declares neither `@Public()` nor `@Auth(...)`, or uses a scheme nothing verifies.
 */
@Injectable()
export class AuthRoutesCheck implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  onApplicationBootstrap(): void {
    const problems: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype;
      const prototype = controller?.prototype as Record<string, unknown> | undefined;
      if (!controller || !prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[method] as (...args: unknown[]) => unknown;
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const route = `${controller.name}.${method}`;
        const targets = [handler, controller];
        if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) continue;
        const schemes = this.reflector.getAllAndOverride<AuthScheme[]>(AUTH_SCHEMES, targets);
        if (!schemes?.length) {
          problems.push(`${route} declares neither @Public() nor @Auth(...)`);
          continue;
        }
        for (const scheme of schemes.filter((s) => !this.auth.hasVerifier(s))) {
          problems.push(`${route} uses auth scheme ${scheme}, which nothing verifies`);
        }
      }
    }
    if (problems.length) throw new Error(`Insecure routes:\n  ${problems.join('\n  ')}`);
  }
}
