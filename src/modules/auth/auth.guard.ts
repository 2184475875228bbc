import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AUTH_SCHEMES, AuthScheme, PUBLIC_ROUTE } from '../../common/auth/auth.decorators';
import { AuthService } from './auth.service';
import { AuthRequest } from './scheme-verifier';

/**
 * Global guard: a route is reachable only through what it declares. `@Public()` opens it,
 * `@Auth(...)` names its schemes, and a route with neither is refused (and fails start-up,
 * see AuthRoutesCheck).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true; // the WebSocket gateway authenticates its upgrade
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const schemes = this.reflector.getAllAndOverride<AuthScheme[]>(AUTH_SCHEMES, targets);
    if (!schemes?.length) throw new ForbiddenException('This route declares no authentication');
    await this.auth.verify(context.switchToHttp().getRequest<AuthRequest>(), schemes);
    return true;
  }
}
