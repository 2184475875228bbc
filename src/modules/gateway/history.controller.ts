import {
  BadRequestException,
  Controller,
  Get,
  NotFoundException,
  Query,
  Req,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { Auth, AuthScheme } from '../../common/auth/auth.decorators';
import { RateLimit } from '../../core/rate-limit/rate-limit.decorator';
import { AuthRequest } from '../auth/scheme-verifier';
import { clientOf } from './client-jwt.verifier';
import { RequiresScope } from './client-scope.guard';
import {
  HistoryMessageDto,
  HistoryPageDto,
  HistoryQueryDto,
  SearchQueryDto,
  SearchResultDto,
} from './dto/gateway.dto';
import { GatewayRepository, HistoryMessage } from './gateway.repository';
import { CLIENT_BUCKET } from './gateway.limits';

function toMessage(row: HistoryMessage): HistoryMessageDto {
  return {
    id: row.id,
    conversation_id: row.conversationId,
    role: row.direction === 'inbound' ? 'user' : 'assistant',
    text: row.text,
    created_at: new Date(row.createdAt).toISOString(),
  };
}

@ApiTags('gateway')
@Controller('v1/history')
@Auth(AuthScheme.ClientJwt)
@RateLimit(CLIENT_BUCKET)
@RequiresScope('history')
export class HistoryController {
  constructor(private readonly gateway: GatewayRepository) {}

  @Get()
  @ApiOperation({ summary: 'A conversation’s messages, newest first (cursor: `before`)' })
  @ApiOkResponse({ type: HistoryPageDto })
  async history(
    @Query() query: HistoryQueryDto,
    @Req() req: FastifyRequest,
  ): Promise<HistoryPageDto> {
    const client = clientOf(req as unknown as AuthRequest);
    if (!(await this.gateway.conversationExists(client.clientId, query.conversation_id))) {
      throw new NotFoundException(`No conversation ${query.conversation_id}`);
    }
    const limit = query.limit ?? 20;
    const rows = await this.gateway.history(
      client.clientId,
      query.conversation_id,
      limit,
      query.before,
    );
    if (!rows) throw new BadRequestException('before is not a message of this conversation');
    return {
      messages: rows.map(toMessage),
      next_before: rows.length === limit ? rows[rows.length - 1].id : null,
    };
  }

  @Get('search')
  @ApiOperation({
    summary: 'The client’s messages ranked by relevance, with a highlighted snippet',
  })
  @ApiOkResponse({ type: SearchResultDto })
  async search(
    @Query() query: SearchQueryDto,
    @Req() req: FastifyRequest,
  ): Promise<SearchResultDto> {
    const client = clientOf(req as unknown as AuthRequest);
    const hits = await this.gateway.search(client.clientId, query.q, query.limit ?? 10);
    return {
      results: hits.map((hit) => ({
        ...toMessage(hit),
        rank: Number(hit.rank),
        snippet: hit.snippet,
      })),
    };
  }
}
