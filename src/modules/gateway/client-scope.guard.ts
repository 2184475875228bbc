import {
  applyDecorators,
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiForbiddenResponse } from '@nestjs/swagger';
import { ApiClientScope } from '../admin-clients/api-clients.repository';
import { AuthRequest } from '../auth/scheme-verifier';
import { clientOf } from './client-jwt.verifier';

const CLIENT_SCOPE = 'archety:client-scope';

/** The route needs this scope on the API client (403 otherwise); runs after the auth guard. */
export const RequiresScope = (scope: ApiClientScope) =>
  applyDecorators(
    SetMetadata(CLIENT_SCOPE, scope),
    UseGuards(ClientScopeGuard),
    ApiForbiddenResponse({ description: `The API client lacks the \`${scope}\` scope` }),
  );

@Injectable()
export class ClientScopeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const scope = this.reflector.getAllAndOverride<ApiClientScope | undefined>(CLIENT_SCOPE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!scope) return true;
    const client = clientOf(context.switchToHttp().getRequest<AuthRequest>());
    if (!client.scopes.includes(scope)) {
      throw new ForbiddenException(`This API client lacks the "${scope}" scope`);
    }
    return true;
  }
}
