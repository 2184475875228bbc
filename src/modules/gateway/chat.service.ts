import { HttpException, HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ApiClientsRepository } from '../admin-clients/api-clients.repository';
import { ConversationService } from '../conversation/conversation.service';
import { ClientPrincipal } from './client-jwt.verifier';
import { ChatRequestDto, ChatResponseDto } from './dto/gateway.dto';
import { conversationChatGuid, GatewayRepository } from './gateway.repository';
import { IdempotencyStore } from './idempotency.store';

/** The synthetic person an API client speaks as (one per client, shared by its conversations). */
export function clientHandle(clientId: string): string {
  return `client:${clientId}`;
}

/** `/v1/chat`: a client's message through the conversation engine, with budget and idempotency. */
@Injectable()
export class ChatService {
  constructor(
    private readonly conversation: ConversationService,
    private readonly gateway: GatewayRepository,
    private readonly clients: ApiClientsRepository,
    private readonly idempotency: IdempotencyStore,
  ) {}

  /**
   * One turn. With an Idempotency-Key, a repeat of the same body returns the first result (and
   * `replayed: true`) without running again; `onDelta` streams the reply's text as it comes.
   */
  async chat(
    client: ClientPrincipal,
    dto: ChatRequestDto,
    idempotencyKey: string | undefined,
    onDelta?: (text: string) => void,
  ): Promise<{ response: ChatResponseDto; replayed: boolean }> {
    if (!idempotencyKey)
      return { response: await this.run(client, dto, null, onDelta), replayed: false };
    const { stream: _stream, ...identity } = dto;
    const bodyHash = IdempotencyStore.bodyHash(identity);
    const claim = await this.idempotency.claim<ChatResponseDto>(
      client.clientId,
      idempotencyKey,
      bodyHash,
    );
    if (claim.kind === 'replay') return { response: claim.result, replayed: true };
    try {
      const response = await this.run(
        client,
        dto,
        `idem:${bodyHash.slice(0, 16)}:${idempotencyKey}`,
        onDelta,
      );
      await this.idempotency.complete(client.clientId, idempotencyKey, bodyHash, response);
      return { response, replayed: false };
    } catch (err) {
      await this.idempotency.release(client.clientId, idempotencyKey);
      throw err;
    }
  }

  private async run(
    client: ClientPrincipal,
    dto: ChatRequestDto,
    dedupKey: string | null,
    onDelta?: (text: string) => void,
  ): Promise<ChatResponseDto> {
    await this.checkBudget(client);
    const conversationId = dto.conversation_id ?? randomUUID();
    if (
      dto.conversation_id &&
      !(await this.gateway.conversationExists(client.clientId, conversationId))
    ) {
      throw new NotFoundException(`No conversation ${conversationId}`);
    }
    const sender = clientHandle(client.clientId);
    const turn = await this.conversation.handle({
      chatGuid: conversationChatGuid(client.clientId, conversationId),
      roomType: 'direct',
      senderHandle: sender,
      text: dto.message,
      sentAt: new Date(),
      participants: [sender],
      messageGuid: null,
      dedupKey,
      personaId: dto.persona_id,
      addressed: true,
      edgeAgentId: null,
      onboards: false,
      metadata: { channel: 'api', api_client_id: client.clientId },
      onDelta,
    });
    await this.clients.attributeUsage(client.clientId, turn.roomId);
    return {
      conversation_id: conversationId,
      message_id: turn.messageId,
      reply: turn.replyText,
      tool_calls: turn.toolCalls.map((call) => ({
        name: call.name,
        arguments: call.arguments,
        result: call.result,
      })),
    };
  }

  /** 402 once the client's turns this month (UTC) used its token budget. */
  private async checkBudget(client: ClientPrincipal): Promise<void> {
    const budget = client.monthlyTokenBudget;
    if (budget === null || budget === undefined) return;
    const used = await this.clients.tokensThisMonth(client.clientId);
    if (used >= budget) {
      throw new HttpException(
        `Monthly token budget exhausted: ${used} of ${budget} tokens used this month; ` +
          'ask the operator to raise it, or wait for the next month',
        HttpStatus.PAYMENT_REQUIRED,
      );
    }
  }
}
