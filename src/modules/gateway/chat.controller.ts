import { Body, Controller, Headers, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiPaymentRequiredResponse,
  ApiProduces,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { BadRequestException } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { Auth, AuthScheme } from '../../common/auth/auth.decorators';
import { RateLimit } from '../../core/rate-limit/rate-limit.decorator';
import { AuthRequest } from '../auth/scheme-verifier';
import { ChatService } from './chat.service';
import { clientOf } from './client-jwt.verifier';
import { RequiresScope } from './client-scope.guard';
import { ChatRequestDto, ChatResponseDto } from './dto/gateway.dto';
import { CHAT_BUCKET, CLIENT_BUCKET } from './gateway.limits';

@ApiTags('gateway')
@Controller('v1/chat')
@Auth(AuthScheme.ClientJwt)
@RateLimit(CLIENT_BUCKET)
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @Post()
  @HttpCode(200)
  @RateLimit(CHAT_BUCKET)
  @RequiresScope('chat')
  @ApiOperation({
    summary: 'One message to the assistant; `stream: true` answers as server-sent events',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: '≤ 255 characters' })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({ type: ChatResponseDto })
  @ApiPaymentRequiredResponse({ description: 'The monthly token budget is used up' })
  @ApiUnprocessableEntityResponse({ description: 'Idempotency-Key reused with another body' })
  async send(
    @Body() dto: ChatRequestDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (
      idempotencyKey !== undefined &&
      (idempotencyKey.length < 1 || idempotencyKey.length > 255)
    ) {
      throw new BadRequestException('Idempotency-Key must be 1 to 255 characters');
    }
    const client = clientOf(req as unknown as AuthRequest);
    if (!dto.stream) {
      const { response } = await this.chat.chat(client, dto, idempotencyKey);
      await reply.status(200).send(response);
      return;
    }

    // Server-sent events, started at the first delta: an error before it is a plain JSON error.
    let started = false;
    let streamed = false;
    const write = (data: unknown) => {
      if (!started) {
        started = true;
        reply.hijack();
        reply.raw.writeHead(200, {
          ...(reply.getHeaders() as Record<string, string>),
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
      }
      reply.raw.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    };
    try {
      const { response } = await this.chat.chat(client, dto, idempotencyKey, (delta) => {
        if (!delta) return;
        streamed = true;
        write({ delta });
      });
      // A cached or replayed reply arrives whole: one delta, so every stream looks alike.
      if (!streamed && response.reply) write({ delta: response.reply });
      write(response);
      write('[DONE]');
      reply.raw.end();
    } catch (err) {
      if (!started) throw err;
      const status = (err as { getStatus?: () => number }).getStatus?.() ?? 500;
      write({
        error: {
          statusCode: status,
          message: status < 500 ? (err as Error).message : 'The reply failed; please retry',
        },
      });
      reply.raw.end();
    }
  }
}
