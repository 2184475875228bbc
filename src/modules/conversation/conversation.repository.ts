import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { PreparedStatements } from '../../core/database/prepared-statements';
import { ChatResult } from '../../core/llm/llm.types';

/**
 * The final write of an answered turn, as one statement (so one round trip, and atomic without
 * an explicit transaction): the reply row, the inbound row marked answered with the response that
 * retries will get, and the reply's LLM calls in the usage ledger. This is the hot path of every
 * message, which is why it spans the messages and llm_usage tables here rather than calling
 * RoomsRepository and UsageService in turn.
 */
@Injectable()
export class ConversationRepository {
  constructor(private readonly prepared: PreparedStatements) {}

  async commitTurn(
    input: {
      inboundId: string;
      roomId: string;
      assistantInstanceId: string;
      userId: string;
      reply: { id: string; text: string } | null;
      response: Record<string, unknown>;
      calls: ChatResult[];
    },
    manager?: EntityManager,
  ): Promise<void> {
    const { calls } = input;
    // Inside a caller's transaction it must run on that transaction's connection.
    const run = (text: string, values: unknown[]) =>
      manager
        ? manager.query(text, values)
        : this.prepared.query('conversation-commit-turn', text, values);
    await run(
      `WITH reply AS (
         INSERT INTO messages (id, room_id, assistant_instance_id, direction, text, status,
                               reply_to_id, sent_at)
         SELECT $1::uuid, $2, $3, 'outbound', $4, 'sent', $5, now() WHERE $1::uuid IS NOT NULL
         RETURNING 1
       ), answered AS (
         UPDATE messages SET status = 'answered', response = $6 WHERE id = $5 RETURNING 1
       ), usage AS (
         INSERT INTO llm_usage (user_id, room_id, purpose, model, prompt_tokens, completion_tokens,
                                total_tokens, latency_ms)
         SELECT $7, $2, 'reply', * FROM unnest($8::text[], $9::int[], $10::int[], $11::int[], $12::int[])
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM answered) AS answered`,
      [
        input.reply?.id ?? null,
        input.roomId,
        input.assistantInstanceId,
        input.reply?.text ?? null,
        input.inboundId,
        input.response,
        input.userId,
        calls.map((c) => c.model),
        calls.map((c) => c.usage.promptTokens),
        calls.map((c) => c.usage.completionTokens),
        calls.map((c) => c.usage.totalTokens),
        calls.map((c) => Math.round(c.latencyMs)),
      ],
    );
  }
}
