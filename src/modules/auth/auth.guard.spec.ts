import {
  ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { Auth, AuthScheme, Public } from '../../common/auth/auth.decorators';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { AuthRequest, SchemeVerifier, VerifiesScheme } from './scheme-verifier';

@Injectable()
@VerifiesScheme(AuthScheme.Admin)
class FakeAdminVerifier implements SchemeVerifier {
  async verify(request: AuthRequest) {
    if (request.headers.authorization !== 'Bearer ok') throw new UnauthorizedException('nope');
    return { admin: true };
  }
}

class Routes {
  @Public() open() {}
  @Auth(AuthScheme.Admin) admin() {}
  @Auth(AuthScheme.Admin, AuthScheme.Hmac) adminAndHmac() {}
  undeclared() {}
}

function contextFor(handler: keyof Routes, request: AuthRequest): ExecutionContext {
  return {
    getType: () => 'http',
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

describe('AuthGuard', () => {
  let guard: AuthGuard;

  beforeEach(() => {
    const discovery = {
      getProviders: () => [{ instance: new FakeAdminVerifier(), metatype: FakeAdminVerifier }],
    } as unknown as DiscoveryService;
    const auth = new AuthService(discovery);
    auth.onModuleInit();
    guard = new AuthGuard(new Reflector(), auth);
  });

  it('lets @Public() routes through without credentials', async () => {
    await expect(guard.canActivate(contextFor('open', { headers: {} }))).resolves.toBe(true);
  });

  it('refuses a route that declares nothing', async () => {
    await expect(
      guard.canActivate(contextFor('undeclared', { headers: {} })),
    ).rejects.toBeInstanceOf(ForbiddenException);
  });

  it('runs the declared scheme and records its principal', async () => {
    const request: AuthRequest = { headers: { authorization: 'Bearer ok' } };
    await expect(guard.canActivate(contextFor('admin', request))).resolves.toBe(true);
    expect(request.auth).toEqual({ [AuthScheme.Admin]: { admin: true } });
    await expect(
      guard.canActivate(contextFor('admin', { headers: { authorization: 'Bearer no' } })),
    ).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('requires every declared scheme and fails closed on one nothing verifies', async () => {
    const request: AuthRequest = { headers: { authorization: 'Bearer ok' } };
    await expect(guard.canActivate(contextFor('adminAndHmac', request))).rejects.toThrow(
      'Authentication scheme hmac is not available',
    );
  });
});
