import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PreparedStatements } from '../../core/database/prepared-statements';
import { OnboardingState } from '../users/entities/onboarding-session.entity';
import { UserRow } from '../users/entities/user.entity';
import { onboardingStateSql } from '../users/onboarding.service';
import { peopleByHandleCtes, resolvingHandles } from '../users/people-by-handle';
import { SenderContextRow, senderContextSql } from '../memory/sender-context';
import { RoomType } from './entities/room.entity';

export interface ResolvedRoom {
  roomId: string;
  roomType: RoomType;
  assistantInstanceId: string;
  participantsCount: number;
  /** Every participant of this message (sender included), by the handle they used. */
  users: Map<string, UserRow>;
  sender: {
    /** Null when the sender has no onboarding session (an API client). */
    onboarding: SenderOnboarding | null;
    traitProfile: string | null;
  };
}

export interface SenderOnboarding {
  state: OnboardingState;
  /** The session started with this message: the sender's first. */
  first: boolean;
}

/** What resolveTurn returns: the room, the new turn's id and the room's turns before it. */
export interface ResolvedTurn extends ResolvedRoom {
  /** Undefined when a message with the same dedup key was already stored. */
  inboundId: string | undefined;
  /** The room's last `historyTurns` answered or ignored turns, oldest first. */
  history: Turn[];
  /** What the assistant knows about the sender (senderContextSql); empty when no prompt is due. */
  senderContext: SenderContextRow[];
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

/**
 * The RETURNING of a turn's message insert. A turn that will be answered commits without waiting
 * for its WAL flush: nobody outside learns of it before the reply's commitTurn, whose synchronous
 * commit flushes the WAL up to itself, this row included. A crash in between loses a turn that
 * was never answered, which the edge sends again. A turn stored without a reply (group chatter)
 * is answered at once, so it keeps the synchronous commit.
 */
const SYNC_COMMIT_RETURNING = `RETURNING id, set_config('synchronous_commit',
    CASE WHEN status = 'processing' THEN 'off' ELSE 'on' END, true)`;

interface ResolveRow {
  roomId: string;
  roomType: RoomType;
  assistantInstanceId: string;
  users: UserRow[];
  participantsCount: number;
  inboundId: string | null;
  history: Turn[] | null;
  senderContext: SenderContextRow[] | null;
  onboarding: SenderOnboarding | null;
  traitProfile: string | null;
  /** The known-room statement: whether everything but the message was already as it should be. */
  unchanged: boolean;
}

/**
 * The end of both turn statements: the room's recent turns, the sender's onboarding, trait
 * profile and context, from CTEs each statement defines (r, a, u, sender, m, onboarding).
 * Parameters: $7 the text, $16 how many turns.
 */
function turnReadsSql(unchanged: string): string {
  return `h AS (
      -- Walks messages_room_recent newest first and stops at the limit; the speakers' names
      -- are primary-key lookups (a join would hash all users while the table is small).
      SELECT m.direction, m.sender_handle AS "senderHandle", hu.name AS "senderName", m.text,
             m.created_at
      FROM (SELECT direction, sender_handle, sender_user_id, text, created_at FROM messages
            WHERE room_id = (SELECT id FROM r) AND status <> 'processing' AND text <> ''
            ORDER BY created_at DESC LIMIT $16) m
      LEFT JOIN LATERAL (SELECT name FROM users WHERE id = m.sender_user_id LIMIT 1) hu ON true
    )
    SELECT r.id AS "roomId", r.type AS "roomType", a.id AS "assistantInstanceId",
           (SELECT json_agg(u) FROM u) AS users,
           (SELECT count(DISTINCT id) FROM u)::int AS "participantsCount",
           (SELECT id FROM m) AS "inboundId",
           (SELECT row_to_json(onboarding) FROM onboarding) AS onboarding,
           (SELECT t.summary FROM trait_profiles t, sender WHERE t.user_id = sender.id)
             AS "traitProfile",
           (SELECT json_agg(json_build_object('direction', direction, 'senderHandle',
              "senderHandle", 'senderName', "senderName", 'text', text) ORDER BY created_at)
            FROM h) AS history,
           CASE WHEN $16 > 0 THEN ${senderContextSql('(SELECT id FROM sender)', '$7')} END
             AS "senderContext",
           ${unchanged} AS unchanged
    FROM r, a`;
}

/**
 * Stores a message from known people in a room that is as it was, writing nothing else: the
 * handles, the room (type, and relaying agent when one is given), the membership (every listed
 * person active; when a list is given, nobody else), the persona's instance and, when `onboards`,
 * the sender's onboarding session must all exist as the message says. `unchanged` says whether
 * they did; when not, nothing was stored and the full statement (TURN_SQL) runs instead.
 */
const KNOWN_TURN_SQL = `WITH u AS (
    SELECT p.id, k.handle, p.name, p.time_zone AS "timeZone"
    FROM user_handles k
    CROSS JOIN LATERAL (SELECT id, name, time_zone FROM users WHERE id = k.user_id LIMIT 1) p
    WHERE k.handle = ANY($1::text[])
  ), sender AS (
    SELECT id, name, "timeZone" AS time_zone FROM u WHERE handle = $6
  ), r AS (
    SELECT id, type FROM rooms WHERE chat_guid = $2 AND type = $3
      AND edge_agent_id IS NOT DISTINCT FROM COALESCE($13, edge_agent_id)
  ), a AS (
    SELECT id FROM assistant_instances WHERE room_id = (SELECT id FROM r) AND persona_id = $4
  ), onboarding AS (
    SELECT state, false AS first FROM onboarding_sessions WHERE user_id = (SELECT id FROM sender)
  ), unchanged AS (
    SELECT (SELECT count(*) FROM u) = $14
      AND (SELECT count(*) FROM room_participants
           WHERE room_id = (SELECT id FROM r) AND active AND user_id = ANY(ARRAY(SELECT id FROM u)))
          = (SELECT count(DISTINCT id) FROM u)
      AND (NOT $5 OR (SELECT count(*) FROM room_participants
                      WHERE room_id = (SELECT id FROM r) AND active)
                     = (SELECT count(DISTINCT id) FROM u))
      AND (NOT $15 OR EXISTS (SELECT 1 FROM onboarding)) AS yes
  ), m AS (
    INSERT INTO messages (room_id, assistant_instance_id, direction, sender_user_id,
                          sender_handle, text, message_guid, dedup_key, status, metadata, sent_at)
    SELECT r.id, a.id, 'inbound', (SELECT id FROM sender), $6, $7, $8, $9, $10, $11, $12
    FROM r, a WHERE (SELECT yes FROM unchanged)
    ON CONFLICT (room_id, dedup_key) DO NOTHING
    ${SYNC_COMMIT_RETURNING}
  ), ${turnReadsSql('(SELECT yes FROM unchanged)')}`;

/**
 * Everything a new inbound message touches (see resolveTurn), creating or updating what is
 * missing or changed. Rows that already exist are read, not rewritten: an unchanged person, room,
 * membership, assistant instance or onboarding session costs no write (and no WAL). Rows inserted
 * by this statement are invisible to its own SELECTs, hence each "new ∪ existing" pair. Two
 * handles of one person may both be listed: membership is per person.
 */
const TURN_SQL = `WITH ${peopleByHandleCtes('$1')}, u AS (
    SELECT id, handle, name, time_zone AS "timeZone" FROM people
  ), sender AS (
    SELECT id, name, time_zone FROM people WHERE handle = $6
  ), new_room AS (
    -- Attempted only when the room is missing or differs: ON CONFLICT DO UPDATE locks the
    -- row it meets even when its WHERE is false (a write and a WAL record per message).
    INSERT INTO rooms (chat_guid, type, edge_agent_id)
    SELECT $2, $3, $13 WHERE NOT EXISTS (
      SELECT 1 FROM rooms e WHERE e.chat_guid = $2 AND e.type = $3
        AND e.edge_agent_id IS NOT DISTINCT FROM COALESCE($13, e.edge_agent_id))
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
    -- The membership checks are written as a scalar subquery and an equality with one
    -- room id so that they stay primary-key lookups: as NOT EXISTS / a join, the generic
    -- plan hashes the whole room_participants table (every room's members) per message.
    INSERT INTO room_participants (room_id, user_id) SELECT DISTINCT r.id, u.id FROM r, u
    WHERE (SELECT p.active FROM room_participants p
           WHERE p.room_id = r.id AND p.user_id = u.id LIMIT 1) IS NOT TRUE
    ON CONFLICT (room_id, user_id) DO UPDATE SET active = true, last_seen_at = now()
      WHERE NOT room_participants.active
    RETURNING user_id
  ), gone AS (
    UPDATE room_participants rp SET active = false
    WHERE $5 AND rp.room_id = (SELECT id FROM r) AND rp.active
      AND rp.user_id <> ALL (ARRAY(SELECT id FROM u))
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
    SELECT r.id, a.id, 'inbound', (SELECT id FROM sender), $6, $7, $8, $9, $10, $11, $12
    FROM r, a WHERE (SELECT count(*) FROM u) = $14
    ON CONFLICT (room_id, dedup_key) DO NOTHING
    ${SYNC_COMMIT_RETURNING}
  ), new_onboarding AS (
    INSERT INTO onboarding_sessions (user_id, state, completed_at)
    SELECT s.id, ${onboardingStateSql('s')},
           CASE WHEN ${onboardingStateSql('s')} = 'completed' THEN now() END
    FROM sender s WHERE $15 AND EXISTS (SELECT 1 FROM m)
    ON CONFLICT (user_id) DO NOTHING
    RETURNING state
  ), onboarding AS (
    SELECT state, true AS first FROM new_onboarding
    UNION ALL
    SELECT o.state, false FROM onboarding_sessions o, sender
    WHERE o.user_id = sender.id AND NOT EXISTS (SELECT 1 FROM new_onboarding)
  ), ${turnReadsSql('true')}`;

/** The only place that queries rooms, participants, assistant instances and messages. */
@Injectable()
export class RoomsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly prepared: PreparedStatements,
  ) {}

  /**
   * One statement (two when something is new or has changed) for everything a new inbound
   * message touches: the people (each handle
   * resolved through user_handles, a person created for an unknown one), the room, its
   * membership (the listed participants become active; when a list is given, the others
   * inactive), the assistant instance of the persona, the inbound turn itself, and for the
   * sender their onboarding session (started with their first stored message when `onboards`)
   * and trait profile. The turn is inserted unless a row with the same dedup key exists — then
   * `inboundId` is undefined: the unique index, not a read-then-write, decides which of two
   * copies is processed. The same statement reads the room's recent turns for the prompt
   * and what the assistant knows about the sender (saving two round trips per message); the new
   * turn is not among them, since a statement does not see its own inserts.
   */
  async resolveTurn(input: {
    chatGuid: string;
    type: RoomType;
    handles: string[];
    participantsListed: boolean;
    personaId: string;
    /** The edge agent relaying the room (it will receive the room's scheduled messages). */
    edgeAgentId: string | null;
    /** Whether a first message starts the sender's onboarding (people, not API clients). */
    onboards: boolean;
    inbound: NewInbound;
    /** How many earlier turns to return; 0 when no prompt will be built (nor sender context read). */
    historyTurns: number;
  }): Promise<ResolvedTurn> {
    const turn = input.inbound;
    const handles = [...new Set([turn.senderHandle, ...input.handles])];
    // A row inserted by a concurrent first message (a new person, room or instance) commits after
    // this statement's snapshot was taken, so the statement cannot see it: then nothing was
    // inserted (the message insert requires every participant) and a second run sees it all.
    return resolvingHandles(`room ${input.chatGuid}`, () => this.resolveOnce(input, handles));
  }

  private async resolveOnce(
    input: Parameters<RoomsRepository['resolveTurn']>[0],
    handles: string[],
  ): Promise<ResolvedTurn | undefined> {
    const turn = input.inbound;
    const values = [
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
      input.onboards,
      input.historyTurns,
    ];
    // Nearly every message comes from known people in a room that is as it was: the read-only
    // statement stores it. Anything new or changed (a person, the room, its members, the
    // instance, an onboarding session to start) is left to the full statement.
    const [known] = await this.prepared.query<ResolveRow>(
      'rooms-resolve-known-turn',
      KNOWN_TURN_SQL,
      values,
    );
    const row = known?.unchanged
      ? known
      : (await this.prepared.query<ResolveRow>('rooms-resolve-turn', TURN_SQL, values))[0];
    if (!row || row.users.length !== handles.length) return undefined;
    return {
      roomId: row.roomId,
      roomType: row.roomType,
      assistantInstanceId: row.assistantInstanceId,
      participantsCount: row.participantsCount,
      users: new Map(row.users.map((user) => [user.handle, user])),
      inboundId: row.inboundId ?? undefined,
      sender: { onboarding: row.onboarding, traitProfile: row.traitProfile },
      history: row.history ?? [],
      senderContext: row.senderContext ?? [],
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
