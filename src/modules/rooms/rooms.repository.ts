import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { preparedQuery } from '../../core/database/prepared-query';
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

/** What resolveTurn returns: the room, the new turn's id and the room's turns before it. */
export interface ResolvedTurn extends ResolvedRoom {
  /** Undefined when a message with the same dedup key was already stored. */
  inboundId: string | undefined;
  /** The room's last `historyTurns` answered or ignored turns, oldest first. */
  history: Turn[];
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
   * unique index, not a read-then-write, decides which of two copies is processed. The same
   * statement reads the room's recent turns for the prompt (saving a round trip per message);
   * the new turn is not among them, since a statement does not see its own inserts.
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
    /** How many earlier turns to return (0 when no prompt will be built). */
    historyTurns: number;
  }): Promise<ResolvedTurn> {
    const turn = input.inbound;
    const handles = [...new Set([turn.senderHandle, ...input.handles])];
    // A row inserted by a concurrent first message (a new person, room or instance) commits after
    // this statement's snapshot was taken, so the statement cannot see it: then nothing was
    // inserted (the message insert requires every participant) and a second run sees it all.
    for (let attempt = 1; ; attempt++) {
      const row = await this.resolveOnce(input, handles);
      if (row) return row;
      if (attempt === 3) throw new Error(`could not resolve room ${input.chatGuid}`);
    }
  }

  private async resolveOnce(
    input: Parameters<RoomsRepository['resolveTurn']>[0],
    handles: string[],
  ): Promise<ResolvedTurn | undefined> {
    const turn = input.inbound;
    const [row] = await preparedQuery<{
      roomId: string;
      roomType: RoomType;
      assistantInstanceId: string;
      users: UserRow[];
      participantsCount: number;
      inboundId: string | null;
      history: Turn[] | null;
    }>(
      this.dataSource,
      'rooms-resolve-turn',
      // Rows that already exist are read, not rewritten: an unchanged person, room, membership
      // or assistant instance costs no write (and no WAL) per message. Rows inserted by this
      // statement are invisible to its own SELECTs, hence each "new ∪ existing" pair.
      `WITH new_users AS (
         INSERT INTO users (handle) SELECT unnest($1::text[]) ON CONFLICT (handle) DO NOTHING
         RETURNING id, handle, name, time_zone AS "timeZone"
       ), u AS (
         SELECT * FROM new_users
         UNION ALL
         SELECT id, handle, name, time_zone FROM users WHERE handle = ANY($1::text[])
       ), new_room AS (
         INSERT INTO rooms (chat_guid, type, edge_agent_id) VALUES ($2, $3, $13)
         ON CONFLICT (chat_guid) DO UPDATE
           SET type = EXCLUDED.type, updated_at = now(),
               edge_agent_id = COALESCE(EXCLUDED.edge_agent_id, rooms.edge_agent_id)
           WHERE rooms.type <> EXCLUDED.type
              OR rooms.edge_agent_id IS DISTINCT FROM COALESCE(EXCLUDED.edge_agent_id, rooms.edge_agent_id)
         RETURNING id, type
       ), r AS (
         SELECT * FROM new_room
         UNION ALL
         SELECT id, type FROM rooms WHERE chat_guid = $2 AND NOT EXISTS (SELECT 1 FROM new_room)
       ), joined AS (
         INSERT INTO room_participants (room_id, user_id) SELECT r.id, u.id FROM r, u
         ON CONFLICT (room_id, user_id) DO UPDATE SET active = true, last_seen_at = now()
           WHERE NOT room_participants.active
         RETURNING user_id
       ), gone AS (
         UPDATE room_participants rp SET active = false FROM r
         WHERE $5 AND rp.room_id = r.id AND rp.active AND rp.user_id NOT IN (SELECT id FROM u)
         RETURNING 1
       ), new_instance AS (
         INSERT INTO assistant_instances (room_id, persona_id) SELECT r.id, $4 FROM r
         ON CONFLICT (room_id, persona_id) DO NOTHING
         RETURNING id
       ), a AS (
         SELECT id FROM new_instance
         UNION ALL
         SELECT ai.id FROM assistant_instances ai, r
         WHERE ai.room_id = r.id AND ai.persona_id = $4 AND NOT EXISTS (SELECT 1 FROM new_instance)
       ), m AS (
         INSERT INTO messages (room_id, assistant_instance_id, direction, sender_user_id,
                               sender_handle, text, message_guid, dedup_key, status, metadata, sent_at)
         SELECT r.id, a.id, 'inbound', (SELECT id FROM u WHERE handle = $6), $6, $7, $8, $9, $10,
                $11, $12
         FROM r, a WHERE (SELECT count(*) FROM u) = $14
         ON CONFLICT (room_id, dedup_key) DO NOTHING
         RETURNING id
       ), h AS (
         SELECT m.direction, m.sender_handle AS "senderHandle", hu.name AS "senderName", m.text,
                m.created_at
         FROM r JOIN messages m ON m.room_id = r.id LEFT JOIN users hu ON hu.id = m.sender_user_id
         WHERE m.status <> 'processing' AND m.text <> ''
         ORDER BY m.created_at DESC LIMIT $15
       )
       SELECT r.id AS "roomId", r.type AS "roomType", a.id AS "assistantInstanceId",
              (SELECT json_agg(u) FROM u) AS users,
              (SELECT count(*) FROM u)::int AS "participantsCount",
              (SELECT id FROM m) AS "inboundId",
              (SELECT json_agg(json_build_object('direction', direction, 'senderHandle',
                 "senderHandle", 'senderName', "senderName", 'text', text) ORDER BY created_at)
               FROM h) AS history
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
        handles.length,
        input.historyTurns,
      ],
    );
    if (!row || (row.users as UserRow[]).length !== handles.length) return undefined;
    return {
      roomId: row.roomId,
      roomType: row.roomType,
      assistantInstanceId: row.assistantInstanceId,
      participantsCount: row.participantsCount,
      users: new Map((row.users as UserRow[]).map((user) => [user.handle, user])),
      inboundId: row.inboundId ?? undefined,
      history: row.history ?? [],
    };
  }

  async findInbound(roomId: string, dedupKey: string): Promise<StoredInbound | undefined> {
    const rows: StoredInbound[] = await this.dataSource.query(
      `SELECT id, status, response FROM messages WHERE room_id = $1 AND dedup_key = $2`,
      [roomId, dedupKey],
    );
    return rows[0];
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
