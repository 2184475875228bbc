import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Auth, AuthScheme } from '../../common/auth/auth.decorators';
import { CommandPayloadError } from './command-payloads';
import {
  CreateEdgeCommandDto,
  EdgeAgentListDto,
  EdgeCommandListDto,
  ListEdgeCommandsQueryDto,
} from './dto/edge-admin.dto';
import { EdgeCommandViewDto, toEdgeCommandView } from './dto/edge-command.view';
import { EdgeAgentsRepository } from './edge-agents.repository';
import { EdgeCommandsService } from './edge-commands.service';
import { EdgePresenceService } from './edge-presence.service';

/** Operators: which agents are connected, and pushing a command to one by hand. */
@ApiTags('admin')
@Controller('admin/edge')
@Auth(AuthScheme.Admin)
export class EdgeAdminController {
  constructor(
    private readonly agents: EdgeAgentsRepository,
    private readonly commands: EdgeCommandsService,
    private readonly presence: EdgePresenceService,
  ) {}

  @Get('agents')
  @ApiOperation({ summary: 'Every edge agent: identity, connection, last seen, queue sizes' })
  @ApiOkResponse({ type: EdgeAgentListDto })
  async list(): Promise<EdgeAgentListDto> {
    const agents = await this.agents.listWithQueues();
    const instances = await this.presence.instancesOf(agents.map((a) => a.id));
    return {
      agents: agents.map((a) => {
        const instance = instances.get(a.id) ?? null;
        return {
          id: a.id,
          persona_id: a.personaId,
          phone: a.phone,
          version: a.version,
          connected: instance !== null,
          connected_instance: instance,
          connected_at: instance !== null ? (a.connectedAt?.toISOString() ?? null) : null,
          last_seen_at: a.lastSeenAt.toISOString(),
          created_at: a.createdAt.toISOString(),
          pending_commands: a.pendingCommands,
          unacked_commands: a.unackedCommands,
        };
      }),
    };
  }

  @Post('agents/:id/commands')
  @HttpCode(201)
  @ApiOperation({ summary: 'Queue a command for the agent; pushed at once if it is connected' })
  @ApiCreatedResponse({ type: EdgeCommandViewDto })
  @ApiBadRequestResponse({ description: 'The payload is not what the edge executes (named)' })
  @ApiNotFoundResponse({ description: 'No such agent' })
  async create(
    @Param('id') agentId: string,
    @Body() dto: CreateEdgeCommandDto,
  ): Promise<EdgeCommandViewDto> {
    if (!(await this.agents.find(agentId))) {
      throw new NotFoundException(`No edge agent ${agentId}`);
    }
    try {
      const command = await this.commands.create(agentId, dto.command_type, dto.payload, {
        priority: dto.priority,
      });
      return toEdgeCommandView(command);
    } catch (err) {
      if (err instanceof CommandPayloadError) throw new BadRequestException(err.message);
      throw err;
    }
  }

  @Get('agents/:id/commands')
  @ApiOperation({ summary: 'The agent’s most recent commands (up to `limit`), in send order' })
  @ApiOkResponse({ type: EdgeCommandListDto })
  @ApiNotFoundResponse({ description: 'No such agent' })
  async commandsOf(
    @Param('id') agentId: string,
    @Query() query: ListEdgeCommandsQueryDto,
  ): Promise<EdgeCommandListDto> {
    if (!(await this.agents.find(agentId))) {
      throw new NotFoundException(`No edge agent ${agentId}`);
    }
    const commands = await this.commands.listForAgent(agentId, query);
    return { commands: commands.map(toEdgeCommandView) };
  }
}
