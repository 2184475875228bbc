import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { preparedQuery } from '../../core/database/prepared-query';
import { ChatResult } from '../../core/llm/llm.types';
import { MemoryType } from './entities/memory.entity';
import { memoryDedupKey } from './memory.service';

export interface ExtractionPerson {
  id: string;
  handle: string;
  name: string | null;
}

/** An inbound message as extraction sees it: its text, its room and who was in it. */
export interface ExtractionSource {
  id: string;
  text: string;
  roomId: string;
  roomType: 'direct' | 'group';
  speaker: ExtractionPerson;
  /** The room's active participants (the speaker included). */
  participants: ExtractionPerson[];
}

export interface ExtractedMemory {
  userId: string;
  type: MemoryType;
  content: string;
  confidence: number;
}

/**
 * The reads and the write of one memory extraction, one statement each. Every inbound message is
 * extracted, so this is the workers' hot path: the write is one round trip (and atomic without an
 * explicit transaction, which cost four) spanning memories and the usage ledger, as
 * ConversationRepository.commitTurn does for a turn.
 */
@Injectable()
export class MemoryExtractionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async load(messageId: string): Promise<ExtractionSource | undefined> {
    const [row] = await preparedQuery<{
      id: string;
      text: string;
      roomId: string;
      roomType: 'direct' | 'group';
      speaker: ExtractionPerson;
      participants: ExtractionPerson[];
    }>(
      this.dataSource,
      'memory-extraction-load',
      `SELECT m.id, m.text, m.room_id AS "roomId", r.type AS "roomType",
              json_build_object('id', u.id, 'handle', u.handle, 'name', u.name) AS speaker,
              coalesce((SELECT json_agg(json_build_object('id', pu.id, 'handle', pu.handle,
                                                          'name', pu.name))
                        FROM room_participants p JOIN users pu ON pu.id = p.user_id
                        WHERE p.room_id = m.room_id AND p.active), '[]'::json) AS participants
       FROM messages m JOIN rooms r ON r.id = m.room_id JOIN users u ON u.id = m.sender_user_id
       WHERE m.id = $1 AND m.direction = 'inbound'`,
      [messageId],
    );
    return row;
  }

  /**
   * Stores the facts (a fact already known is confirmed, not duplicated) and the call's usage;
   * returns the people who gained a new memory.
   */
  async store(
    source: ExtractionSource,
    memories: ExtractedMemory[],
    call: ChatResult,
  ): Promise<{ created: number; changedUserIds: string[] }> {
    // One row per person and fact: a statement may not upsert the same row twice.
    const unique = new Map<string, ExtractedMemory & { dedupKey: string }>();
    for (const memory of memories) {
      const dedupKey = memoryDedupKey(memory.type, memory.content);
      const key = `${memory.userId}\n${dedupKey}`;
      const known = unique.get(key);
      if (!known || known.confidence < memory.confidence) unique.set(key, { ...memory, dedupKey });
    }
    const rows = [...unique.values()];
    const stored = await preparedQuery<{ userId: string; created: boolean }>(
      this.dataSource,
      'memory-extraction-store',
      `WITH stored AS (
         INSERT INTO memories (user_id, room_id, type, content, confidence, source,
                               source_message_id, dedup_key)
         SELECT f.user_id, $5, f.type, f.content, f.confidence, 'extraction', $6, f.dedup_key
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::real[], $7::text[])
           AS f(user_id, type, content, confidence, dedup_key)
         ON CONFLICT (user_id, dedup_key) DO UPDATE
           SET last_confirmed_at = now(),
               confidence = GREATEST(memories.confidence, EXCLUDED.confidence)
         RETURNING user_id, (xmax = 0) AS created
       ), usage AS (
         INSERT INTO llm_usage (user_id, room_id, purpose, model, prompt_tokens,
                                completion_tokens, total_tokens, latency_ms)
         VALUES ($8, $5, 'memory-extraction', $9, $10, $11, $12, $13)
         RETURNING 1
       )
       SELECT user_id AS "userId", created FROM stored`,
      [
        rows.map((r) => r.userId),
        rows.map((r) => r.type),
        rows.map((r) => r.content),
        rows.map((r) => r.confidence),
        source.roomId,
        source.id,
        rows.map((r) => r.dedupKey),
        source.speaker.id,
        call.model,
        call.usage.promptTokens,
        call.usage.completionTokens,
        call.usage.totalTokens,
        Math.round(call.latencyMs),
      ],
    );
    const created = stored.filter((r) => r.created);
    return {
      created: created.length,
      changedUserIds: [...new Set(created.map((r) => r.userId))],
    };
  }
}
