import { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import { AuthScheme } from '../../common/auth/auth.decorators';
import { AuthService } from '../auth/auth.service';
import { AuthRequest } from '../auth/scheme-verifier';
import { EdgeAgentsRepository } from './edge-agents.repository';

/**
 * The edge client calls `GET /health` at start-up with its Edge token (and no agent header):
 * when the token names an agent, the agent is recorded as seen. /health itself stays public and
 * answers whatever the credentials; this never delays or fails it.
 */
@Injectable()
export class EdgeHealthSeenMiddleware implements NestMiddleware {
  private readonly logger = new Logger(EdgeHealthSeenMiddleware.name);

  constructor(
    private readonly auth: AuthService,
    private readonly agents: EdgeAgentsRepository,
  ) {}

  use(req: IncomingMessage, _res: ServerResponse, next: () => void): void {
    if (req.headers.authorization) void this.record(req);
    next();
  }

  private async record(req: IncomingMessage): Promise<void> {
    const request: AuthRequest = { headers: req.headers, url: req.url };
    try {
      await this.auth.verify(request, [AuthScheme.EdgeToken]);
      const agentId = (request.auth?.[AuthScheme.EdgeToken] as { agentId?: string } | undefined)
        ?.agentId;
      if (agentId) await this.agents.touch(agentId);
    } catch (err) {
      this.logger.debug(`health call not from a known agent: ${(err as Error).message}`);
    }
  }
}
