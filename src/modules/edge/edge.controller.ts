import {
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  HttpCode,
  Post,
} from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, AuthScheme } from '../../common/auth/auth.decorators';
import { EdgePrincipal } from '../auth/edge-token.verifier';
import {
  EdgeLegacyAckDto,
  EdgeLegacyAckReplyDto,
  EdgeRegisterDto,
  EdgeRegisterReplyDto,
  EdgeSyncDto,
  EdgeSyncReplyDto,
} from './dto/edge-legacy.dto';
import { EdgeAgentsRepository } from './edge-agents.repository';
import { EDGE_AGENT_ID, EdgeCommandsService, toWireCommand } from './edge-commands.service';
import { EdgeAgent } from './edge-principal.decorator';

/**
 * The HTTP side of the edge protocol that only the Nov 2025 (V0) client calls: registration,
 * the polling fallback and acks sent while its socket was down (EDGE_PROTOCOL §2.4, §4.4). The
 * current client uses `/edge/message`, `/photo/upload` and the WebSocket.
 */
@ApiTags('edge')
@Controller('edge')
@Auth(AuthScheme.EdgeToken)
@ApiHeader({ name: 'X-Edge-Agent-Id', required: false })
export class EdgeController {
  constructor(
    private readonly agents: EdgeAgentsRepository,
    private readonly commands: EdgeCommandsService,
  ) {}

  @Post('register')
  @Auth(AuthScheme.EdgeRegistration)
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Legacy (V0) registration: returns the agent id (X-Edge-Agent-Id, the token’s, or edge_<digits>)',
  })
  @ApiOkResponse({ type: EdgeRegisterReplyDto })
  async register(
    @Body() dto: EdgeRegisterDto,
    @EdgeAgent() principal: EdgePrincipal,
  ): Promise<EdgeRegisterReplyDto> {
    const agentId = principal.agentId ?? `edge_${dto.user_phone.replace(/\D/g, '')}`;
    if (!EDGE_AGENT_ID.test(agentId)) {
      throw new BadRequestException('edge agent id has characters outside [A-Za-z0-9_.:@+-]');
    }
    await this.agents.recordIdentity(agentId, { phone: dto.user_phone, version: dto.version });
    return { edge_agent_id: agentId };
  }

  @Post('sync')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Legacy (V0) polling: returns the agent’s pending commands in order, marked delivered',
  })
  @ApiOkResponse({ type: EdgeSyncReplyDto })
  async sync(
    @Body() dto: EdgeSyncDto,
    @EdgeAgent() principal: EdgePrincipal,
  ): Promise<EdgeSyncReplyDto> {
    const agentId = dto.edge_agent_id;
    if (principal.agentId !== undefined && principal.agentId !== agentId) {
      throw new ForbiddenException('edge_agent_id is not the authenticated agent');
    }
    await this.agents.touch(agentId);
    const commands = await this.commands.claimForSend(agentId, 'due');
    // Events are accepted and dropped (nothing ever sent any: EDGE_PROTOCOL §4.3); acknowledging
    // them stops a client from resending them forever.
    const ackEvents = (dto.pending_events ?? []).flatMap((e) =>
      typeof e.event_id === 'string' ? [e.event_id] : [],
    );
    return { commands: commands.map(toWireCommand), ack_events: ackEvents, config_updates: {} };
  }

  @Post('command/ack')
  @HttpCode(200)
  @ApiOperation({ summary: 'Legacy (V0) acknowledgement of a command, sent over HTTP' })
  @ApiOkResponse({ type: EdgeLegacyAckReplyDto })
  async ack(
    @Body() dto: EdgeLegacyAckDto,
    @EdgeAgent() principal: EdgePrincipal,
  ): Promise<EdgeLegacyAckReplyDto> {
    // The raw secret carries no identity and the V0 body names no agent: the command's own.
    const agentId = principal.agentId ?? (await this.commands.find(dto.command_id))?.agentId;
    if (!agentId) return { status: 'ok', recorded: false };
    const event = await this.commands.ack(agentId, {
      command_id: dto.command_id,
      status: dto.success ? 'completed' : 'failed',
      completed_at: dto.timestamp,
      error: dto.error ?? undefined,
    });
    return { status: 'ok', recorded: event !== null };
  }
}
