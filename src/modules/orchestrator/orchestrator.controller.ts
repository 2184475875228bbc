import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, AuthScheme } from '../../common/auth/auth.decorators';
import { RateLimit } from '../../core/rate-limit/rate-limit.decorator';
import { ConversationService } from '../conversation/conversation.service';
import { EdgeAgentsRepository } from '../edge/edge-agents.repository';
import { HeartbeatDto, HeartbeatReplyDto } from './dto/heartbeat.dto';
import { timestampToDate } from '../../common/validation/handle.validator';
import { OrchestratorMessageDto, OrchestratorReplyDto } from './dto/orchestrator-message.dto';
import { PER_SENDER, mentionedInMetadata, toOrchestratorReply } from './relay-reply.mapper';

@ApiTags('relay')
@Controller('orchestrator')
export class OrchestratorController {
  constructor(
    private readonly conversation: ConversationService,
    private readonly agents: EdgeAgentsRepository,
  ) {}

  @Post('message')
  @HttpCode(200)
  @Auth(AuthScheme.RelayBearer, AuthScheme.Hmac)
  @RateLimit(PER_SENDER)
  @ApiOperation({ summary: 'A relayed iMessage; answers with the reply (or silence in a group)' })
  @ApiOkResponse({ type: OrchestratorReplyDto })
  async message(@Body() dto: OrchestratorMessageDto): Promise<OrchestratorReplyDto> {
    const metadata = dto.metadata ?? {};
    const turn = await this.conversation.handle({
      chatGuid: dto.chat_guid,
      roomType: dto.mode,
      senderHandle: dto.sender,
      text: dto.text,
      sentAt: timestampToDate(dto.timestamp),
      participants: dto.participants,
      messageGuid: dto.message_guid ?? null,
      dedupKey: dto.message_guid ? `guid:${dto.message_guid}` : null,
      personaId: dto.persona_id,
      addressed: mentionedInMetadata(metadata),
      edgeAgentId: null,
      onboards: true,
      metadata: dto.attachments ? { ...metadata, attachments: dto.attachments } : metadata,
    });
    return toOrchestratorReply(turn);
  }

  @Post('heartbeat')
  @HttpCode(200)
  @Auth(AuthScheme.RelayBearer)
  @ApiOperation({ summary: 'Liveness of a relay; records the agent as seen' })
  @ApiOkResponse({ type: HeartbeatReplyDto })
  async heartbeat(@Body() dto: HeartbeatDto): Promise<HeartbeatReplyDto> {
    if (dto.edge_agent_id) await this.agents.touch(dto.edge_agent_id);
    return { status: 'ok', server_time: new Date().toISOString() };
  }
}
