import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { AuthScheme } from '../../common/auth/auth.decorators';
import { AuthRequest } from '../auth/scheme-verifier';
import { EdgePrincipal } from '../auth/edge-token.verifier';

/**
 * The edge principal established by `@Auth(AuthScheme.EdgeToken)` (or EdgeRegistration):
 * `agentId` is the token's agent (HMAC token) or the claimed `X-Edge-Agent-Id` (raw secret),
 * possibly undefined.
 */
export const EdgeAgent = createParamDecorator(
  (_data: unknown, context: ExecutionContext): EdgePrincipal => {
    const request = context.switchToHttp().getRequest<AuthRequest>();
    const principal = (request.auth?.[AuthScheme.EdgeToken] ??
      request.auth?.[AuthScheme.EdgeRegistration]) as EdgePrincipal | undefined;
    return principal ?? { agentId: undefined, phone: undefined, mode: 'open' };
  },
);
