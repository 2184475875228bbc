import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { UserRow } from '../users/entities/user.entity';
import { RoomType } from './entities/room.entity';

export interface ResolvedRoom {
  roomId: string;
  roomType: RoomType;
  assistantInstanceId: string;
  participantsCount: number;
  /** Every participant of this message (sender included), by handle. */
  users: Map<string, UserRow>;
}

export interface InboundTurn {
  roomId: string;
  assistantInstanceId: string;
  senderUserId: string;
  senderHandle: string;
  text: string;
  messageGuid: string | null;
  dedupKey: string | null;
  metadata: Record<string, unknown>;
  sentAt: Date;
}

export interface StoredInbound {
  id: string;
  status: 'processing' | 'answered' | 'ignored';
  response: Record<string, unknown> | null;
}

export interface Turn {
  direction: 'inbound' | 'outbound';
  senderHandle: string | null;
  senderName: string | null;
  text: string;
}

/** The only place that queries rooms, participants, assistant instances and messages. */
@Injectable()
export class RoomsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Creates or updates, in one statement: the people, the room, its membership (the listed
   * participants become active; when a list is given, the others inactive) and the assistant
   * instance of the persona.
   */
  async resolve(input: {
    chatGuid: string;
    type: RoomType;
    handles: string[];
    participantsListed: boolean;
    personaId: string;
  }): Promise<ResolvedRoom> {
    const handles = [...new Set(input.handles)];
    const [row] = await this.dataSource.query(
      `WITH u AS (
         INSERT INTO users (handle) SELECT unnest($1::text[])
         ON CONFLICT (handle) DO UPDATE SET handle = EXCLUDED.handle
         RETURNING id, handle, name, time_zone AS "timeZone"
       ), r AS (
         INSERT INTO rooms (chat_guid, type) VALUES ($2, $3)
         ON CONFLICT (chat_guid) DO UPDATE SET type = EXCLUDED.type, updated_at = now()
         RETURNING id, type
       ), p AS (
         INSERT INTO room_participants (room_id, user_id) SELECT r.id, u.id FROM r, u
         ON CONFLICT (room_id, user_id) DO UPDATE SET active = true, last_seen_at = now()
         RETURNING user_id
       ), gone AS (
         UPDATE room_participants rp SET active = false FROM r
         WHERE $5 AND rp.room_id = r.id AND rp.active AND rp.user_id NOT IN (SELECT id FROM u)
         RETURNING 1
       ), a AS (
         INSERT INTO assistant_instances (room_id, persona_id) SELECT r.id, $4 FROM r
         ON CONFLICT (room_id, persona_id) DO UPDATE SET persona_id = EXCLUDED.persona_id
         RETURNING id
       )
       SELECT r.id AS "roomId", r.type AS "roomType", a.id AS "assistantInstanceId",
              (SELECT json_agg(u) FROM u) AS users,
              (SELECT count(*) FROM p)::int AS "participantsCount"
       FROM r, a`,
      [handles, input.chatGuid, input.type, input.personaId, input.participantsListed],
    );
    const users = new Map<string, UserRow>(
      (row.users as UserRow[]).map((user) => [user.handle, user]),
    );
    return {
      roomId: row.roomId,
      roomType: row.roomType,
      assistantInstanceId: row.assistantInstanceId,
      participantsCount: row.participantsCount,
      users,
    };
  }

  /**
   * Stores an inbound turn as `processing`, or returns undefined when a row with the same dedup
   * key exists: the unique index decides, so two copies arriving together store one row.
   */
  async insertInbound(
    turn: InboundTurn,
    status: 'processing' | 'ignored',
    response: Record<string, unknown> | null = null,
  ): Promise<string | undefined> {
    const rows: { id: string }[] = await this.dataSource.query(
      `INSERT INTO messages (room_id, assistant_instance_id, direction, sender_user_id, sender_handle,
                             text, message_guid, dedup_key, status, metadata, sent_at, response)
       VALUES ($1, $2, 'inbound', $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (room_id, dedup_key) DO NOTHING
       RETURNING id`,
      [
        turn.roomId,
        turn.assistantInstanceId,
        turn.senderUserId,
        turn.senderHandle,
        turn.text,
        turn.messageGuid,
        turn.dedupKey,
        status,
        turn.metadata,
        turn.sentAt,
        response,
      ],
    );
    return rows[0]?.id;
  }

  async findInbound(roomId: string, dedupKey: string): Promise<StoredInbound | undefined> {
    const rows: StoredInbound[] = await this.dataSource.query(
      `SELECT id, status, response FROM messages WHERE room_id = $1 AND dedup_key = $2`,
      [roomId, dedupKey],
    );
    return rows[0];
  }

  async findInboundById(id: string): Promise<StoredInbound | undefined> {
    const rows: StoredInbound[] = await this.dataSource.query(
      `SELECT id, status, response FROM messages WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  /** The room's last turns before this one, oldest first (the prompt's history window). */
  async recentTurns(roomId: string, excludeId: string, limit: number): Promise<Turn[]> {
    const rows: Turn[] = await this.dataSource.query(
      `SELECT m.direction, m.sender_handle AS "senderHandle", u.name AS "senderName", m.text
       FROM messages m LEFT JOIN users u ON u.id = m.sender_user_id
       WHERE m.room_id = $1 AND m.id <> $2 AND m.status <> 'processing' AND m.text <> ''
       ORDER BY m.created_at DESC LIMIT $3`,
      [roomId, excludeId, limit],
    );
    return rows.reverse();
  }

  /** Whether the assistant wrote the message a reply points at (group rule: replies address it). */
  async isAssistantMessage(roomId: string, messageGuid: string): Promise<boolean> {
    const rows = await this.dataSource.query(
      `SELECT 1 FROM messages WHERE room_id = $1 AND message_guid = $2 AND direction = 'outbound'`,
      [roomId, messageGuid],
    );
    return rows.length > 0;
  }

  async deleteInbound(id: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM messages WHERE id = $1 AND status = 'processing'`, [
      id,
    ]);
  }

  /**
   * Inside the turn's final transaction: the reply row (when there is a reply), and the inbound
   * row marked answered with the response that retries will get.
   */
  async completeTurn(
    manager: EntityManager,
    input: {
      inboundId: string;
      roomId: string;
      assistantInstanceId: string;
      reply: { id: string; text: string } | null;
      response: Record<string, unknown>;
    },
  ): Promise<void> {
    if (input.reply) {
      await manager.query(
        `INSERT INTO messages (id, room_id, assistant_instance_id, direction, text, status, reply_to_id, sent_at)
         VALUES ($1, $2, $3, 'outbound', $4, 'sent', $5, now())`,
        [
          input.reply.id,
          input.roomId,
          input.assistantInstanceId,
          input.reply.text,
          input.inboundId,
        ],
      );
    }
    await manager.query(`UPDATE messages SET status = 'answered', response = $2 WHERE id = $1`, [
      input.inboundId,
      input.response,
    ]);
  }
}
