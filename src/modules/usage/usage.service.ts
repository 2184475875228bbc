import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ChatResult } from '../../core/llm/llm.types';

export interface UsageScope {
  userId: string | null;
  roomId: string | null;
  purpose: string;
}

@Injectable()
export class UsageService {
  /** Records LLM calls in the caller's transaction (so a rolled-back turn records nothing). */
  async record(manager: EntityManager, scope: UsageScope, results: ChatResult[]): Promise<void> {
    if (!results.length) return;
    await manager.query(
      `INSERT INTO llm_usage (user_id, room_id, purpose, model, prompt_tokens, completion_tokens, total_tokens, latency_ms)
       SELECT $1, $2, $3, * FROM unnest($4::text[], $5::int[], $6::int[], $7::int[], $8::int[])`,
      [
        scope.userId,
        scope.roomId,
        scope.purpose,
        results.map((c) => c.model),
        results.map((c) => c.usage.promptTokens),
        results.map((c) => c.usage.completionTokens),
        results.map((c) => c.usage.totalTokens),
        results.map((c) => Math.round(c.latencyMs)),
      ],
    );
  }
}
