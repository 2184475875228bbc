import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
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

export interface NewInbound {
  senderHandle: string;
  text: string;
  messageGuid: string | null;
  /** The retry identity of the message, unique per room; null = none. */
  dedupKey: string | null;
  status: 'processing' | 'ignored';
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
   * One statement for everything a new inbound message touches: the people (users by handle),
   * the room, its membership (the listed participants become active; when a list is given, the
   * others inactive), the assistant instance of the persona, and the inbound turn itself. The turn
   * is inserted unless a row with the same dedup key exists — then `inboundId` is undefined: the
   * unique index, not a read-then-write, decides which of two copies is processed.
   */
  async resolveTurn(input: {
    chatGuid: string;
    type: RoomType;
    handles: string[];
    participantsListed: boolean;
    personaId: string;
    /** The edge agent relaying the room (it will receive the room's scheduled messages). */
    edgeAgentId: string | null;
    inbound: NewInbound;
  }): Promise<ResolvedRoom & { inboundId: string | undefined }> {
    const turn = input.inbound;
    const handles = [...new Set([turn.senderHandle, ...input.handles])];
    const [row] = await this.dataSource.query(
      `WITH u AS (
         INSERT INTO users (handle) SELECT unnest($1::text[])
         ON CONFLICT (handle) DO UPDATE SET handle = EXCLUDED.handle
         RETURNING id, handle, name, time_zone AS "timeZone"
       ), r AS (
         INSERT INTO rooms (chat_guid, type, edge_agent_id) VALUES ($2, $3, $13)
         ON CONFLICT (chat_guid) DO UPDATE SET type = EXCLUDED.type, updated_at = now(),
           edge_agent_id = COALESCE(EXCLUDED.edge_agent_id, rooms.edge_agent_id)
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
       ), m AS (
         INSERT INTO messages (room_id, assistant_instance_id, direction, sender_user_id,
                               sender_handle, text, message_guid, dedup_key, status, metadata, sent_at)
         SELECT r.id, a.id, 'inbound', (SELECT id FROM u WHERE handle = $6), $6, $7, $8, $9, $10,
                $11, $12
         FROM r, a
         ON CONFLICT (room_id, dedup_key) DO NOTHING
         RETURNING id
       )
       SELECT r.id AS "roomId", r.type AS "roomType", a.id AS "assistantInstanceId",
              (SELECT json_agg(u) FROM u) AS users,
              (SELECT count(*) FROM p)::int AS "participantsCount",
              (SELECT id FROM m) AS "inboundId"
       FROM r, a`,
      [
        handles,
        input.chatGuid,
        input.type,
        input.personaId,
        input.participantsListed,
        turn.senderHandle,
        turn.text,
        turn.messageGuid,
        turn.dedupKey,
        turn.status,
        turn.metadata,
        turn.sentAt,
        input.edgeAgentId,
      ],
    );
    return {
      roomId: row.roomId,
      roomType: row.roomType,
      assistantInstanceId: row.assistantInstanceId,
      participantsCount: row.participantsCount,
      users: new Map((row.users as UserRow[]).map((user) => [user.handle, user])),
      inboundId: row.inboundId ?? undefined,
    };
  }

  async findInbound(roomId: string, dedupKey: string): Promise<StoredInbound | undefined> {
    const rows: StoredInbound[] = await this.dataSource.query(
      `SELECT id, status, response FROM messages WHERE room_id = $1 AND dedup_key = $2`,
      [roomId, dedupKey],
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

  async deleteInbound(id: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM messages WHERE id = $1 AND status = 'processing'`, [
      id,
    ]);
  }

  /** Records the outcome of a turn that gets no reply (group chatter, empty text). */
  async setResponse(inboundId: string, response: Record<string, unknown>): Promise<void> {
    await this.dataSource.query(`UPDATE messages SET response = $2 WHERE id = $1`, [
      inboundId,
      response,
    ]);
  }
}
