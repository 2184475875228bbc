import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { clientChatGuidPrefix } from '../admin-clients/api-clients.repository';

/** A client's conversation is the room `api:<clientId>:<conversationId>`. */
export function conversationChatGuid(clientId: string, conversationId: string): string {
  return `${clientChatGuidPrefix(clientId)}${conversationId}`;
}

export interface HistoryMessage {
  id: string;
  conversationId: string;
  direction: 'inbound' | 'outbound';
  text: string;
  createdAt: Date;
}

export interface SearchHit extends HistoryMessage {
  rank: number;
  snippet: string;
}

const MESSAGE_COLUMNS = `m.id, substring(r.chat_guid from $1::int) AS "conversationId", m.direction,
  m.text, m.created_at AS "createdAt"`;

/**
 * Read-only queries of the gateway, always scoped to one API client through the chat GUID of
 * its rooms: another client's conversation is indistinguishable from one that does not exist.
 */
@Injectable()
export class GatewayRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async conversationExists(clientId: string, conversationId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM rooms WHERE chat_guid = $1`,
      [conversationChatGuid(clientId, conversationId)],
    );
    return rows.length > 0;
  }

  /**
   * Newest first; `before` is the id of the oldest message of the previous page (it must belong
   * to the conversation: undefined is returned otherwise).
   */
  async history(
    clientId: string,
    conversationId: string,
    limit: number,
    before?: string,
  ): Promise<HistoryMessage[] | undefined> {
    const guid = conversationChatGuid(clientId, conversationId);
    const start = clientChatGuidPrefix(clientId).length + 1;
    if (before) {
      const cursor: unknown[] = await this.dataSource.query(
        `SELECT 1 FROM messages m JOIN rooms r ON r.id = m.room_id WHERE m.id = $1 AND r.chat_guid = $2`,
        [before, guid],
      );
      if (!cursor.length) return undefined;
    }
    return this.dataSource.query(
      `SELECT ${MESSAGE_COLUMNS}
       FROM messages m JOIN rooms r ON r.id = m.room_id
       WHERE r.chat_guid = $2
         AND ($4::uuid IS NULL OR (m.created_at, m.id) <
              (SELECT created_at, id FROM messages WHERE id = $4::uuid))
       ORDER BY m.created_at DESC, m.id DESC
       LIMIT $3`,
      [start, guid, limit, before ?? null],
    );
  }

  /** Full-text search (the messages GIN index) over the client's own messages, ranked. */
  async search(clientId: string, query: string, limit: number): Promise<SearchHit[]> {
    const prefix = clientChatGuidPrefix(clientId);
    return this.dataSource.query(
      `SELECT ${MESSAGE_COLUMNS}, ts_rank(m.search_vector, q) AS rank,
              ts_headline('english', m.text, q,
                'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=10, MaxFragments=2') AS snippet
       FROM websearch_to_tsquery('english', $2) q, messages m JOIN rooms r ON r.id = m.room_id
       WHERE m.search_vector @@ q AND starts_with(r.chat_guid, $3)
       ORDER BY rank DESC, m.created_at DESC
       LIMIT $4`,
      [prefix.length + 1, query, prefix, limit],
    );
  }
}
