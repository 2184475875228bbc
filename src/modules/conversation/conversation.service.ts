import { randomUUID } from 'node:crypto';
import {
  ConflictException,
  Inject,
  Injectable,
  Logger,
  Optional,
  ServiceUnavailableException,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import OpenAI from 'openai';
import { DataSource, EntityManager } from 'typeorm';
import { RetryLaterException } from '../../common/filters/retry-later.exception';
import { LlmClient } from '../../core/llm/llm.client';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { LlmError } from '../../core/llm/llm.errors';
import { MetricsService } from '../../core/metrics/metrics.service';
import { JobName } from '../../core/queue/queue.constants';
import { QueueService } from '../../core/queue/queue.service';
import { ChatResult, LlmToolCall } from '../../core/llm/llm.types';
import { MemoryType } from '../memory/entities/memory.entity';
import { MemoryService } from '../memory/memory.service';
import { toSenderContext } from '../memory/sender-context';
import { PersonaEntity } from '../personas/entities/persona.entity';
import { PersonasService } from '../personas/personas.service';
import { PhotosService } from '../photos/photos.service';
import { prefixedChatGuid } from '../rooms/chat-guid';
import { RoomType } from '../rooms/entities/room.entity';
import { ResolvedRoom, ResolvedTurn, RoomsRepository } from '../rooms/rooms.repository';
import { ConversationRepository } from './conversation.repository';
import { parseSendAt } from '../scheduled-messages/send-at';
import {
  ScheduledMessageRow,
  ScheduledMessagesService,
} from '../scheduled-messages/scheduled-messages.service';
import { UserRow } from '../users/entities/user.entity';
import { onboardingGaps } from '../users/onboarding.service';
import { timeZoneOf } from '../users/time-zone';
import { ASSISTANT_TOOLS } from './assistant-tools';
import {
  buildPrompt,
  mentionsPersona,
  PromptOnboarding,
  splitBubbles,
} from './conversation.prompt';
import { ResponseCacheService } from './response-cache.service';

export interface InboundMessage {
  /** As the client sent it; the platform prefix is added here. */
  chatGuid: string;
  roomType: RoomType;
  senderHandle: string;
  text: string;
  sentAt: Date;
  participants: string[];
  messageGuid: string | null;
  /** The retry identity (the message GUID, or a hash of what the edge sends); null = none. */
  dedupKey: string | null;
  personaId?: string;
  /** The client says the persona was addressed (`mentioned_sage`, a reply to the assistant). */
  addressed: boolean;
  /** The edge agent that relayed it, when one did (it relays the room's scheduled messages). */
  edgeAgentId: string | null;
  /**
   * Whether the sender's first message starts their onboarding (the persona introduces itself
   * and asks their name and time zone): people over iMessage yes, API clients no.
   */
  onboards: boolean;
  metadata: Record<string, unknown>;
  /** Streams the reply: each LLM round is streamed and its text deltas passed here. */
  onDelta?: (text: string) => void;
}

export interface ExecutedToolCall {
  name: string;
  arguments: Record<string, unknown>;
  result: Record<string, unknown>;
}

/** The outcome of one inbound message; stored on it and replayed to retries. */
export interface TurnResult {
  inboundMessageId: string;
  messageId: string | null;
  shouldRespond: boolean;
  replyText: string | null;
  replyBubbles: string[];
  scheduleMessage: { scheduleId: string; sendAt: string; text: string } | null;
  toolCalls: ExecutedToolCall[];
  roomId: string;
  assistantInstanceId: string;
  roomType: RoomType;
  participantsCount: number;
}

/**
 * The photos a message carries: `metadata.photo_id` (the relay's seed contract) and the edge's
 * `attachments[].uploaded_photo_id` (collected into `metadata.photo_ids`).
 */
function photoIdsOf(metadata: Record<string, unknown>): string[] {
  const ids = [metadata.photo_id, ...(Array.isArray(metadata.photo_ids) ? metadata.photo_ids : [])];
  return ids.filter((id): id is string => typeof id === 'string');
}

/** What the prompt says about onboarding: nothing once it is complete (or for API clients). */
function promptOnboarding(room: ResolvedRoom, sender: UserRow): PromptOnboarding | null {
  const session = room.sender.onboarding;
  if (!session) return null;
  const missing = session.state === 'completed' ? [] : onboardingGaps(sender);
  return session.first || missing.length ? { first: session.first, missing } : null;
}

/** Turns of the room's history in the prompt, and the longest a turn may be there. */
const HISTORY_TURNS = 20;
/** Model ↔ tool round trips per reply. */
const MAX_TOOL_ROUNDS = 3;
/** How long a retry waits for the first copy of the same message to be answered. */
const DUPLICATE_WAIT_MS = 25_000;

type Effect =
  | { kind: 'schedule'; text: string; sendAt: Date }
  | { kind: 'remember'; type: MemoryType; content: string };

/**
 * The conversation engine: one inbound message becomes a stored turn and, when the assistant is
 * addressed, a reply in the persona's voice. Used by every channel (relay, edge, API clients).
 */
@Injectable()
export class ConversationService {
  private readonly logger = new Logger(ConversationService.name);
  /** Messages being worked on in this process right now (see `handle`). */
  private turnsInProgress = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly llm: LlmClient,
    private readonly personas: PersonasService,
    private readonly rooms: RoomsRepository,
    private readonly memory: MemoryService,
    private readonly scheduled: ScheduledMessagesService,
    private readonly turns: ConversationRepository,
    private readonly cache: ResponseCacheService,
    private readonly queues: QueueService,
    private readonly photos: PhotosService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  /**
   * Load shedding: past MAX_CONCURRENT_TURNS messages at once (a slow model or database piling
   * requests up), the next is refused at once with a 503, before anything is written, rather
   * than queued until every turn is late and memory runs out. The edge and the relay retry a
   * 503 (the edge after 5 s, then 10 s; others are told `Retry-After: 1`); a balancer sends the
   * retry to a less busy instance.
   */
  async handle(message: InboundMessage): Promise<TurnResult> {
    if (this.turnsInProgress >= this.config.limits.concurrentTurns) {
      this.metrics?.observeTurnShed();
      throw new RetryLaterException('The assistant is busy; please retry shortly', 503, 1);
    }
    this.turnsInProgress++;
    try {
      return await this.handleTurn(message);
    } finally {
      this.turnsInProgress--;
    }
  }

  private async handleTurn(message: InboundMessage): Promise<TurnResult> {
    const persona = await this.personas.resolve(message.personaId);
    // Group rule: in a group the assistant answers only when addressed; never to empty text.
    const respond =
      message.text.trim() !== '' &&
      (message.roomType === 'direct' ||
        message.addressed ||
        mentionsPersona(message.text, persona.name));
    const room = await this.rooms.resolveTurn({
      chatGuid: prefixedChatGuid(message.chatGuid),
      type: message.roomType,
      handles: message.participants,
      participantsListed: message.participants.length > 0,
      personaId: persona.id,
      edgeAgentId: message.edgeAgentId,
      historyTurns: respond ? HISTORY_TURNS : 0,
      onboards: message.onboards,
      inbound: {
        senderHandle: message.senderHandle,
        text: message.text,
        messageGuid: message.messageGuid,
        dedupKey: message.dedupKey,
        status: respond ? 'processing' : 'ignored',
        metadata: message.metadata,
        sentAt: message.sentAt,
      },
    });
    const inboundId = room.inboundId;
    if (!inboundId) return this.replay(room.roomId, message.dedupKey!);

    if (!respond) {
      const silent = this.result(room, { inboundMessageId: inboundId });
      await this.rooms.setResponse(inboundId, { ...silent });
      await this.extractMemories(inboundId);
      return silent;
    }
    const sender = room.users.get(message.senderHandle)!;
    try {
      const result = await this.answer(message, room, sender, persona, inboundId);
      await this.extractMemories(inboundId);
      return result;
    } catch (err) {
      // Nothing half-written: the turn disappears, so the client's retry starts afresh.
      await this.rooms.deleteInbound(inboundId).catch(() => undefined);
      if (err instanceof LlmError) {
        this.logger.warn(`reply failed (${err.kind}): ${err.message}`);
        throw new ServiceUnavailableException(
          'The assistant is temporarily unavailable; please retry shortly',
        );
      }
      throw err;
    }
  }

  private async answer(
    message: InboundMessage,
    room: ResolvedTurn,
    sender: UserRow,
    persona: PersonaEntity,
    inboundId: string,
  ): Promise<TurnResult> {
    // Counted from here, photo waits included: the edge gives up on a request after 60 s
    // (EDGE_PROTOCOL §6), and a 503 before that is a retry it can make, a timeout is not.
    const deadline = Date.now() + this.config.llm.replyTimeoutMs;
    const photoIds = photoIdsOf(message.metadata);
    if (room.roomType === 'group') {
      // Group photos shared without addressing the persona were kept unanalysed until now.
      await this.photos.analyzeStoredForRoom(message.chatGuid);
    }
    const context = toSenderContext(sender.name, room.senderContext);
    const photoNotes = photoIds.length
      ? await this.photos.analysisNotes(photoIds, this.config.photos.analysisWaitMs, {
          chatGuid: message.chatGuid,
        })
      : [];
    const prompt = buildPrompt({
      persona,
      roomType: room.roomType,
      sender: { ...sender, timeZone: timeZoneOf(sender) },
      context,
      traitProfile: room.sender.traitProfile,
      onboarding: promptOnboarding(room, sender),
      history: room.history,
      text: message.text,
      photoNotes,
      now: new Date(),
    });
    const model = this.llm.status().model;
    // Hashing the whole prompt is a real share of a turn's CPU: only done when replies are cached.
    const cacheKey = this.cache.enabled
      ? this.cache.key(
          { personaId: persona.id, model, userId: sender.id, roomId: room.roomId },
          prompt.cacheable,
        )
      : undefined;

    const calls: ChatResult[] = [];
    const toolCalls: ExecutedToolCall[] = [];
    const effects: Effect[] = [];
    let reply = cacheKey === undefined ? undefined : await this.cache.get(cacheKey);
    if (reply === undefined) {
      const conversation: OpenAI.Chat.ChatCompletionMessageParam[] = [...prompt.messages];
      for (let round = 0; round < MAX_TOOL_ROUNDS; round++) {
        const request = { messages: conversation, tools: ASSISTANT_TOOLS, deadline };
        const result = message.onDelta
          ? await this.llm.streamChat(request, message.onDelta)
          : await this.llm.chat(request);
        calls.push(result);
        reply = result.content ?? '';
        if (!result.toolCalls.length || round === MAX_TOOL_ROUNDS - 1) break;
        conversation.push({
          role: 'assistant',
          content: result.content,
          tool_calls: result.toolCalls.map((call) => ({
            id: call.id,
            type: 'function' as const,
            function: { name: call.name, arguments: JSON.stringify(call.arguments) },
          })),
        });
        for (const call of result.toolCalls) {
          const outcome = await this.runTool(call, sender);
          if (outcome.effect) effects.push(outcome.effect);
          toolCalls.push({ name: call.name, arguments: call.arguments, result: outcome.result });
          conversation.push({
            role: 'tool',
            tool_call_id: call.id,
            content: JSON.stringify(outcome.result),
          });
        }
      }
      reply = (reply ?? '').trim();
      if (cacheKey !== undefined && !toolCalls.length && reply) {
        await this.cache.set(cacheKey, reply);
      }
    }

    const replyText = reply.trim();
    const outboundId = replyText ? randomUUID() : null;
    const schedules: ScheduledMessageRow[] = [];
    const commit = async (manager?: EntityManager): Promise<TurnResult> => {
      for (const effect of effects) {
        if (effect.kind === 'schedule') {
          schedules.push(
            await this.scheduled.create(manager!, {
              roomId: room.roomId,
              assistantInstanceId: room.assistantInstanceId,
              requestedByUserId: sender.id,
              sourceMessageId: inboundId,
              text: effect.text,
              sendAt: effect.sendAt,
            }),
          );
        } else {
          await this.memory.remember(
            {
              userId: sender.id,
              roomId: room.roomId,
              type: effect.type,
              content: effect.content,
              confidence: 0.9,
              source: 'tool:remember',
              sourceMessageId: inboundId,
            },
            manager,
          );
        }
      }
      const first = schedules[0];
      const outcome = this.result(room, {
        inboundMessageId: inboundId,
        messageId: outboundId,
        shouldRespond: replyText !== '',
        replyText: replyText || null,
        replyBubbles: replyText ? splitBubbles(replyText) : [],
        scheduleMessage: first
          ? { scheduleId: first.id, sendAt: new Date(first.sendAt).toISOString(), text: first.text }
          : null,
        toolCalls,
      });
      await this.turns.commitTurn(
        {
          inboundId,
          roomId: room.roomId,
          assistantInstanceId: room.assistantInstanceId,
          userId: sender.id,
          reply: outboundId ? { id: outboundId, text: replyText } : null,
          response: { ...outcome },
          calls,
        },
        manager,
      );
      return outcome;
    };
    // The common turn is one statement; tool writes join it in one transaction.
    const result = effects.length
      ? await this.dataSource.transaction((manager) => commit(manager))
      : await commit();
    for (const row of schedules)
      await this.scheduled.enqueue({ ...row, sendAt: new Date(row.sendAt) });
    return result;
  }

  /**
   * Runs one tool call. Reads happen now; writes are returned as effects and applied in the
   * turn's final transaction, so a turn that fails later leaves nothing behind.
   */
  private async runTool(
    call: LlmToolCall,
    sender: UserRow,
  ): Promise<{ result: Record<string, unknown>; effect?: Effect }> {
    const args = call.arguments;
    switch (call.name) {
      case 'schedule_message': {
        const text = typeof args.text === 'string' ? args.text.trim() : '';
        const sendAt =
          typeof args.send_at === 'string'
            ? parseSendAt(args.send_at, timeZoneOf(sender))
            : undefined;
        if (!text || text.length > 5000)
          return { result: { error: 'text must be 1 to 5000 characters' } };
        if (!sendAt) return { result: { error: 'send_at must be an ISO 8601 time' } };
        if (sendAt.getTime() < Date.now() - 60_000)
          return { result: { error: 'send_at is in the past' } };
        return {
          result: { status: 'scheduled', send_at: sendAt.toISOString() },
          effect: { kind: 'schedule', text, sendAt },
        };
      }
      case 'remember': {
        const content = typeof args.content === 'string' ? args.content.trim().slice(0, 500) : '';
        const allowed = ['activity', 'person', 'place', 'preference', 'plan', 'fact'];
        const type = (allowed.includes(args.type as string) ? args.type : 'fact') as MemoryType;
        if (!content) return { result: { error: 'content is required' } };
        return { result: { status: 'remembered' }, effect: { kind: 'remember', type, content } };
      }
      case 'search_memories': {
        const query = typeof args.query === 'string' ? args.query : '';
        const limit = typeof args.limit === 'number' ? args.limit : 5;
        const hits = await this.memory.search(sender.id, query, limit);
        return { result: { memories: hits.map((m) => ({ type: m.type, content: m.content })) } };
      }
      default:
        return { result: { error: `unknown tool ${call.name}` } };
    }
  }

  /**
   * Every stored inbound message is mined for memories by the memory-extraction worker, once
   * (the job id is the message id). A queue outage costs that message's memories, not the turn.
   */
  private async extractMemories(messageId: string): Promise<void> {
    await this.queues
      .enqueue(JobName.MemoryExtract, { messageId }, { key: messageId })
      .catch((err: Error) => this.logger.warn(`memory extraction not queued: ${err.message}`));
  }

  /** A retry of a message already stored: the first copy's outcome, once it has one. */
  private async replay(roomId: string, dedupKey: string): Promise<TurnResult> {
    const deadline = Date.now() + DUPLICATE_WAIT_MS;
    for (;;) {
      const stored = await this.rooms.findInbound(roomId, dedupKey);
      if (!stored) {
        throw new ServiceUnavailableException(
          'The first copy of this message failed; please retry',
        );
      }
      if (stored.status !== 'processing' && stored.response) {
        return stored.response as unknown as TurnResult;
      }
      if (Date.now() > deadline) {
        throw new ConflictException('The same message is still being processed');
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private result(room: ResolvedRoom, fields: Partial<TurnResult>): TurnResult {
    return {
      inboundMessageId: '',
      messageId: null,
      shouldRespond: false,
      replyText: null,
      replyBubbles: [],
      scheduleMessage: null,
      toolCalls: [],
      roomId: room.roomId,
      assistantInstanceId: room.assistantInstanceId,
      roomType: room.roomType,
      participantsCount: room.participantsCount,
      ...fields,
    };
  }
}
