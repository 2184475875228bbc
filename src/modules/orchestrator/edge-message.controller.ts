import { createHash } from 'node:crypto';
import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, AuthScheme } from '../../common/auth/auth.decorators';
import { RateLimit } from '../../core/rate-limit/rate-limit.decorator';
import { ConversationService } from '../conversation/conversation.service';
import { EdgeMessageDto, EdgeReplyDto } from './dto/edge-message.dto';
import { timestampToDate } from './dto/handle.validator';
import { PER_SENDER, mentionedInMetadata, toEdgeReply } from './relay-reply.mapper';

@ApiTags('edge')
@Controller('edge')
export class EdgeMessageController {
  constructor(private readonly conversation: ConversationService) {}

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
    const turn = await this.conversation.handle({
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
      metadata: {
        ...metadata,
        ...(dto.context ? { context: dto.context } : {}),
        ...(dto.attachments ? { attachments: dto.attachments } : {}),
        ...(photoIds.length ? { photo_ids: photoIds } : {}),
        ...(agentId ? { edge_agent_id: agentId } : {}),
      },
    });
    return toEdgeReply(turn);
  }
}
