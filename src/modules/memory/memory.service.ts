import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { PreparedStatements } from '../../core/database/prepared-statements';
import { MemoryType } from './entities/memory.entity';
import {
  SenderContext,
  SenderContextRow,
  senderContextSql,
  toSenderContext,
} from './sender-context';

export interface NewMemory {
  userId: string;
  roomId: string | null;
  type: MemoryType;
  content: string;
  confidence: number;
  source: string;
  sourceMessageId: string | null;
  /** The photo it was seen in (a `visual_*` memory); deleting the photo deletes the memory. */
  sourcePhotoId?: string | null;
}

export interface MemoryHit {
  id: string;
  type: MemoryType;
  content: string;
  confidence: number;
  lastConfirmedAt: Date;
}

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
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly prepared: PreparedStatements,
  ) {}

  /** Stores a memory, or confirms the one already known (no second row). */
  async remember(
    memory: NewMemory,
    manager?: EntityManager,
  ): Promise<{ id: string; created: boolean }> {
    const [row] = await (manager ?? this.dataSource.manager).query(
      `INSERT INTO memories (user_id, room_id, type, content, confidence, source, source_message_id, dedup_key, source_photo_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
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
        memory.sourcePhotoId ?? null,
      ],
    );
    return { id: row.id, created: row.created };
  }

  /**
   * Deletes the memories learned from a photo and/or a message; returns how many. At least one
   * source is required (never "everything").
   */
  async deleteBySource(
    source: { photoId?: string; messageId?: string },
    manager?: EntityManager,
  ): Promise<number> {
    if (!source.photoId && !source.messageId) {
      throw new Error('deleteBySource needs a photoId or a messageId');
    }
    const [, count]: [unknown[], number] = await (manager ?? this.dataSource.manager).query(
      `DELETE FROM memories
       WHERE ($1::uuid IS NOT NULL AND source_photo_id = $1::uuid)
          OR ($2::uuid IS NOT NULL AND source_message_id = $2::uuid)`,
      [source.photoId ?? null, source.messageId ?? null],
    );
    return count;
  }

  /** Deletes every memory of a person ("forget me"); returns how many. */
  async deleteByUser(userId: string, manager?: EntityManager): Promise<number> {
    const [, count]: [unknown[], number] = await (manager ?? this.dataSource.manager).query(
      `DELETE FROM memories WHERE user_id = $1`,
      [userId],
    );
    return count;
  }

  /** A person's memories ranked by full-text relevance to the query (most recent when none match). */
  async search(userId: string, query: string, limit = 5): Promise<MemoryHit[]> {
    const rows: MemoryHit[] = await this.dataSource.query(
      `SELECT id, type, content, confidence, last_confirmed_at AS "lastConfirmedAt"
       FROM memories, websearch_to_tsquery('english', $2) q
       WHERE user_id = $1 AND superseded_at IS NULL AND ($2 = '' OR search_vector @@ q)
       ORDER BY ts_rank(search_vector, q) DESC, last_confirmed_at DESC
       LIMIT $3`,
      [userId, query.slice(0, 500), Math.min(Math.max(limit, 1), 20)],
    );
    return rows;
  }

  /**
   * What the prompt knows about the sender (see senderContextSql). A reply reads it within the
   * statement that stores the message (RoomsRepository.resolveTurn); this is the same read alone.
   */
  async contextFor(
    user: { id: string; name: string | null },
    text: string,
  ): Promise<SenderContext> {
    const [row] = await this.prepared.query<{ rows: SenderContextRow[] }>(
      'memory-context',
      `SELECT ${senderContextSql('$1::uuid', '$2::text')} AS rows`,
      [user.id, text],
    );
    return toSenderContext(user.name, row.rows);
  }
}
