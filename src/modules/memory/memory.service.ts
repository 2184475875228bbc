import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { MemoryType } from './entities/memory.entity';

export interface NewMemory {
  userId: string;
  roomId: string | null;
  type: MemoryType;
  content: string;
  confidence: number;
  source: string;
  sourceMessageId: string | null;
}

export interface MemoryHit {
  id: string;
  type: MemoryType;
  content: string;
  confidence: number;
  lastConfirmedAt: Date;
}

/** What the prompt knows about the person it answers. */
export interface SenderContext {
  name: string | null;
  memories: MemoryHit[];
}

const CONTEXT_MEMORIES = 8;

/** The same fact phrased with other case, spacing or punctuation is the same fact. */
export function memoryDedupKey(type: MemoryType, content: string): string {
  const normalized = content
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  return `${type}:${normalized}`;
}

@Injectable()
export class MemoryService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Stores a memory, or confirms the one already known (no second row). */
  async remember(
    memory: NewMemory,
    manager?: EntityManager,
  ): Promise<{ id: string; created: boolean }> {
    const [row] = await (manager ?? this.dataSource.manager).query(
      `INSERT INTO memories (user_id, room_id, type, content, confidence, source, source_message_id, dedup_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (user_id, dedup_key) DO UPDATE
         SET last_confirmed_at = now(), confidence = GREATEST(memories.confidence, EXCLUDED.confidence)
       RETURNING id, (xmax = 0) AS created`,
      [
        memory.userId,
        memory.roomId,
        memory.type,
        memory.content,
        memory.confidence,
        memory.source,
        memory.sourceMessageId,
        memoryDedupKey(memory.type, memory.content),
      ],
    );
    return { id: row.id, created: row.created };
  }

  /** A person's memories ranked by full-text relevance to the query (most recent when none match). */
  async search(userId: string, query: string, limit = 5): Promise<MemoryHit[]> {
    const rows: MemoryHit[] = await this.dataSource.query(
      `SELECT id, type, content, confidence, last_confirmed_at AS "lastConfirmedAt"
       FROM memories, websearch_to_tsquery('english', $2) q
       WHERE user_id = $1 AND ($2 = '' OR search_vector @@ q)
       ORDER BY ts_rank(search_vector, q) DESC, last_confirmed_at DESC
       LIMIT $3`,
      [userId, query.slice(0, 500), Math.min(Math.max(limit, 1), 20)],
    );
    return rows;
  }

  /** The sender's memories relevant to the new message, topped up with the most recent ones. */
  async contextFor(
    user: { id: string; name: string | null },
    text: string,
  ): Promise<SenderContext> {
    const rows: MemoryHit[] = await this.dataSource.query(
      `SELECT id, type, content, confidence, last_confirmed_at AS "lastConfirmedAt"
       FROM memories, websearch_to_tsquery('english', $2) q
       WHERE user_id = $1
       ORDER BY (search_vector @@ q) DESC, ts_rank(search_vector, q) DESC, last_confirmed_at DESC
       LIMIT $3`,
      [user.id, text.slice(0, 500), CONTEXT_MEMORIES],
    );
    return { name: user.name, memories: rows };
  }
}
