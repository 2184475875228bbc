import { createHash } from 'node:crypto';
import { Body, Controller, Headers, HttpCode, Inject, Logger, Post } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, AuthScheme } from '../../common/auth/auth.decorators';
import { RateLimit } from '../../core/rate-limit/rate-limit.decorator';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { ConversationService } from '../conversation/conversation.service';
import { EdgeAgentsRepository } from '../edge/edge-agents.repository';
import { EdgePresenceService } from '../edge/edge-presence.service';
import { EdgeReplyService } from './edge-reply.service';
import { EdgeMessageDto, EdgeReplyDto } from './dto/edge-message.dto';
import { timestampToDate } from '../../common/validation/handle.validator';
import {
  EMPTY_EDGE_REPLY,
  PER_SENDER,
  mentionedInMetadata,
  toEdgeReply,
} from './relay-reply.mapper';

@ApiTags('edge')
@Controller('edge')
export class EdgeMessageController {
  private readonly logger = new Logger(EdgeMessageController.name);

  constructor(
    private readonly conversation: ConversationService,
    private readonly presence: EdgePresenceService,
    private readonly agents: EdgeAgentsRepository,
    private readonly replies: EdgeReplyService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('message')
  @HttpCode(200)
  @Auth(AuthScheme.EdgeToken)
  @RateLimit(PER_SENDER)
  @ApiHeader({ name: 'X-Edge-Agent-Id', required: false })
  @ApiOperation({ summary: 'An iMessage relayed by the edge client (its V4+ body)' })
  @ApiOkResponse({ type: EdgeReplyDto })
  async message(
    @Body() dto: EdgeMessageDto,
    @Headers('x-edge-agent-id') agentId: string | undefined,
  ): Promise<EdgeReplyDto> {
    const metadata = dto.metadata ?? {};
    const photoIds = (dto.attachments ?? []).flatMap((a) =>
      a.uploaded_photo_id ? [a.uploaded_photo_id] : [],
    );
    if (agentId) {
      // The agent's persona and number as it reports them; never delays or fails the message.
      this.agents
        .recordIdentity(agentId, { personaId: dto.persona_id, phone: dto.persona_phone })
        .catch((err: Error) => this.logger.warn(`agent ${agentId} not recorded: ${err.message}`));
    }
    const work = this.conversation.handle({
      chatGuid: dto.chat_guid,
      roomType: dto.mode,
      senderHandle: dto.sender,
      text: dto.text,
      sentAt: timestampToDate(dto.timestamp),
      participants: dto.participants,
      messageGuid: null,
      // The edge sends no message id and retries after 502/503: the same agent, chat, sender,
      // time and text is the same message.
      dedupKey: `edge:${createHash('sha256')
        .update(
          [agentId ?? '', dto.chat_guid, dto.sender, String(dto.timestamp), dto.text].join('\n'),
        )
        .digest('hex')}`,
      personaId: dto.persona_id,
      addressed: mentionedInMetadata(metadata),
      edgeAgentId: agentId ?? null,
      onboards: true,
      metadata: {
        ...metadata,
        ...(dto.context ? { context: dto.context } : {}),
        ...(dto.attachments ? { attachments: dto.attachments } : {}),
        ...(photoIds.length ? { photo_ids: photoIds } : {}),
        ...(agentId ? { edge_agent_id: agentId } : {}),
      },
    });
    // Reply channel (SPEC §6): in the HTTP response when ready within the deadline; otherwise,
    // when the agent's socket is open, an empty answer now and the reply as commands when ready.
    // Never both: the edge would send it twice.
    const inTime = await Promise.race([
      work.then((turn) => ({ turn })),
      new Promise<undefined>((resolve) =>
        setTimeout(() => resolve(undefined), this.config.edge.replyDeadlineMs).unref(),
      ),
    ]).catch(() => ({ turn: undefined }));
    if (inTime?.turn) return toEdgeReply(inTime.turn);
    if (!inTime && agentId && (await this.presence.isConnected(agentId))) {
      work
        .then((turn) => this.replies.push(agentId, dto.chat_guid, turn))
        .catch((err: Error) => this.logger.warn(`late reply to ${agentId} lost: ${err.message}`));
      return EMPTY_EDGE_REPLY;
    }
    return toEdgeReply(await work);
  }
}
