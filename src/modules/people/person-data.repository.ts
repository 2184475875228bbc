import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/**
 * Every column that references a person (users.id). Merging, exporting and erasing a person
 * each handle all of them below; the e2e suite compares this list with the schema's foreign
 * keys, so a table added later fails the suite until it is handled here too.
 */
export const PERSON_REFERENCES: readonly { table: string; column: string }[] = [
  { table: 'llm_usage', column: 'user_id' },
  { table: 'memories', column: 'user_id' },
  { table: 'messages', column: 'sender_user_id' },
  { table: 'onboarding_sessions', column: 'user_id' },
  { table: 'otp_challenges', column: 'user_id' },
  { table: 'photos', column: 'owner_user_id' },
  { table: 'refresh_sessions', column: 'user_id' },
  { table: 'room_participants', column: 'user_id' },
  { table: 'scheduled_messages', column: 'requested_by_user_id' },
  { table: 'trait_profiles', column: 'user_id' },
  { table: 'user_handles', column: 'user_id' },
  { table: 'user_traits', column: 'user_id' },
];

export interface HandleOwner {
  userId: string;
  /** The owner has confirmed a code for one of their handles (signed in, or linked one). */
  claimed: boolean;
}

export interface MergeCounts {
  messages: number;
  memories: number;
  traits: number;
  photos: number;
}

/** What erasure must also clear outside Postgres, gathered before the rows go. */
export interface ErasureTargets {
  handles: string[];
  messageIds: string[];
  photoIds: string[];
  scheduledMessageIds: string[];
}

export interface ErasedCounts {
  rooms: number;
  messages: number;
  scheduledMessages: number;
  edgeCommands: number;
}

/** One person's rows in every table that holds them, as plain JSON-ready objects. */
export type PersonExport = Record<string, unknown>;

/** `[rows, count]`: what TypeORM's Postgres driver answers to UPDATE and DELETE. */
type Affected = [unknown[], number];

/**
 * The only place that reads or rewrites a person across every table: linking a handle (and
 * merging the person it belonged to), the export, and erasure.
 */
@Injectable()
export class PersonDataRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  // ---- handles ----

  async handles(
    userId: string,
  ): Promise<{ handle: string; verifiedAt: Date | null; createdAt: Date; primary: boolean }[]> {
    return (await this.dataSource.query(
      `SELECT h.handle, h.verified_at AS "verifiedAt", h.created_at AS "createdAt",
              h.handle = u.handle AS primary
         FROM user_handles h JOIN users u ON u.id = h.user_id
        WHERE h.user_id = $1 ORDER BY h.handle = u.handle DESC, h.created_at, h.handle`,
      [userId],
    )) as { handle: string; verifiedAt: Date | null; createdAt: Date; primary: boolean }[];
  }

  async ownerOf(handle: string): Promise<string | undefined> {
    const rows = (await this.dataSource.query(
      `SELECT user_id AS "userId" FROM user_handles WHERE handle = $1`,
      [handle],
    )) as { userId: string }[];
    return rows[0]?.userId;
  }

  /** Locks the person's row for the transaction; false when they do not exist (any more). */
  async lockPerson(m: EntityManager, userId: string): Promise<boolean> {
    const rows = (await m.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [
      userId,
    ])) as unknown[];
    return rows.length > 0;
  }

  /**
   * The handle for `userId`, verified: added when nobody has it, or the owner it has (locked
   * until the transaction ends) when it is someone's already.
   */
  async claimHandle(
    m: EntityManager,
    userId: string,
    handle: string,
  ): Promise<{ added: true } | { added: false; owner: HandleOwner }> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [row] = (await m.query(
        `SELECT h.user_id AS "userId",
                EXISTS (SELECT 1 FROM user_handles v WHERE v.user_id = h.user_id
                          AND v.verified_at IS NOT NULL)
                  OR EXISTS (SELECT 1 FROM refresh_sessions s WHERE s.user_id = h.user_id)
                  AS claimed
           FROM user_handles h WHERE h.handle = $1 FOR UPDATE OF h`,
        [handle],
      )) as HandleOwner[];
      if (row) return { added: false, owner: row };
      // A concurrent first message from the handle may create its person meanwhile: then the
      // insert gives way and the next pass finds that person.
      const inserted = (await m.query(
        `INSERT INTO user_handles (handle, user_id, verified_at) VALUES ($1, $2, now())
         ON CONFLICT (handle) DO NOTHING RETURNING 1`,
        [handle, userId],
      )) as unknown[];
      if (inserted.length) return { added: true };
    }
    throw new Error('could not link a handle that keeps changing hands');
  }

  async verifyHandle(m: EntityManager, handle: string): Promise<void> {
    await m.query(
      `UPDATE user_handles SET verified_at = COALESCE(verified_at, now()) WHERE handle = $1`,
      [handle],
    );
  }

  /**
   * Moves everything of person `from` to person `into`, then deletes `from`: handles, messages,
   * rooms, memories and traits (on a duplicate, the copy kept takes the higher confidence),
   * photos, schedules, usage, onboarding when `into` has none, and a name or time zone `into`
   * lacks. Only for a `from` who never signed in: their sessions and codes are not carried over
   * (they have none), so no credential of theirs ever reaches `into`.
   */
  async merge(m: EntityManager, from: string, into: string): Promise<MergeCounts> {
    const q = async (sql: string) => ((await m.query(sql, [from, into])) as Affected)[1];
    // Both rows locked in one statement, ordered by id, so two crossing merges cannot deadlock.
    await m.query(`SELECT 1 FROM users WHERE id IN ($1, $2) ORDER BY id FOR UPDATE`, [from, into]);

    await q(`UPDATE user_handles SET user_id = $2 WHERE user_id = $1`);
    const messages = await q(`UPDATE messages SET sender_user_id = $2 WHERE sender_user_id = $1`);
    await m.query(
      `INSERT INTO room_participants (room_id, user_id, active, joined_at, last_seen_at)
       SELECT room_id, $2, active, joined_at, last_seen_at FROM room_participants WHERE user_id = $1
       ON CONFLICT (room_id, user_id) DO UPDATE
         SET active = room_participants.active OR EXCLUDED.active,
             joined_at = LEAST(room_participants.joined_at, EXCLUDED.joined_at),
             last_seen_at = GREATEST(room_participants.last_seen_at, EXCLUDED.last_seen_at)`,
      [from, into],
    );

    await q(
      `UPDATE memories k SET confidence = GREATEST(k.confidence, d.confidence),
              last_confirmed_at = GREATEST(k.last_confirmed_at, d.last_confirmed_at)
         FROM memories d
        WHERE k.user_id = $2 AND d.user_id = $1 AND k.dedup_key = d.dedup_key`,
    );
    await q(
      `DELETE FROM memories d USING memories k
        WHERE d.user_id = $1 AND k.user_id = $2 AND k.dedup_key = d.dedup_key`,
    );
    const memories = await q(`UPDATE memories SET user_id = $2 WHERE user_id = $1`);

    await q(
      `UPDATE user_traits k SET value = d.value, confidence = d.confidence, source = d.source,
              source_message_id = d.source_message_id, updated_at = now()
         FROM user_traits d
        WHERE k.user_id = $2 AND d.user_id = $1 AND k.trait = d.trait
          AND d.confidence > k.confidence`,
    );
    await q(
      `DELETE FROM user_traits d USING user_traits k
        WHERE d.user_id = $1 AND k.user_id = $2 AND k.trait = d.trait`,
    );
    const traits = await q(`UPDATE user_traits SET user_id = $2 WHERE user_id = $1`);

    // The same bytes sent by both to the same chat stay one photo (the one `into` has); the
    // other goes with `from`, and the file stays, since `into`'s photo uses it.
    const photos = await q(
      `UPDATE photos d SET owner_user_id = $2
        WHERE d.owner_user_id = $1 AND NOT EXISTS (
          SELECT 1 FROM photos k
           WHERE k.owner_user_id = $2 AND k.chat_guid = d.chat_guid AND k.sha256 = d.sha256)`,
    );
    await q(
      `UPDATE scheduled_messages SET requested_by_user_id = $2 WHERE requested_by_user_id = $1`,
    );
    await q(`UPDATE llm_usage SET user_id = $2 WHERE user_id = $1`);
    await m.query(
      `INSERT INTO onboarding_sessions (user_id, state, started_at, completed_at, updated_at)
       SELECT $2, state, started_at, completed_at, now() FROM onboarding_sessions WHERE user_id = $1
       ON CONFLICT (user_id) DO NOTHING`,
      [from, into],
    );
    await q(
      `UPDATE users k SET name = COALESCE(k.name, d.name),
              time_zone = COALESCE(k.time_zone, d.time_zone), updated_at = now()
         FROM users d WHERE k.id = $2 AND d.id = $1`,
    );
    // What is left of `from` (its trait profile, rebuilt for `into` by the caller; its
    // onboarding; duplicate rows) goes with it.
    await m.query(`DELETE FROM users WHERE id = $1`, [from]);
    return { messages, memories, traits, photos };
  }

  // ---- erasure ----

  async erasureTargets(userId: string): Promise<ErasureTargets | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT ARRAY(SELECT handle FROM user_handles WHERE user_id = u.id) AS handles,
              ARRAY(SELECT id::text FROM messages WHERE sender_user_id = u.id) AS "messageIds",
              ARRAY(SELECT id::text FROM photos WHERE owner_user_id = u.id) AS "photoIds",
              ARRAY(SELECT s.id::text FROM scheduled_messages s
                     WHERE s.requested_by_user_id = u.id
                        OR s.room_id IN (${OWN_ROOMS('u.id')})) AS "scheduledMessageIds"
         FROM users u WHERE u.id = $1`,
      [userId],
    )) as ErasureTargets[];
    return row;
  }

  /**
   * Deletes the person's rows, in the caller's transaction (their photos and memories go first,
   * through their own services). Their own chats (direct, or where nobody else is a member) go
   * whole; in chats they share, their messages and the assistant's replies to them go, and
   * their handle leaves the participant lists other people's photos carry. Edge commands still
   * queued for their chats are withdrawn. What stays is other people's: their messages, and
   * what was learned about them.
   */
  async eraseRows(m: EntityManager, userId: string): Promise<ErasedCounts | undefined> {
    const [person] = (await m.query(
      `SELECT ARRAY(SELECT handle FROM user_handles WHERE user_id = u.id) AS handles,
              ARRAY(${OWN_ROOMS('u.id')}) AS rooms
         FROM users u WHERE u.id = $1 FOR UPDATE`,
      [userId],
    )) as { handles: string[]; rooms: string[] }[];
    if (!person) return undefined;
    const { handles, rooms } = person;

    const [scheduled] = (await m.query(
      `DELETE FROM scheduled_messages WHERE requested_by_user_id = $1 OR room_id = ANY($2::uuid[])
       RETURNING id`,
      [userId, rooms],
    )) as Affected;
    const [, edgeCommands] = (await m.query(
      `DELETE FROM edge_commands
        WHERE scheduled_message_id = ANY($1::uuid[])
           OR payload->>'thread_id' = ANY($2::text[])
           OR payload->>'thread_id' IN (SELECT regexp_replace(chat_guid, '^imessage:', '')
                                          FROM rooms WHERE id = ANY($3::uuid[]))`,
      [(scheduled as { id: string }[]).map((s) => s.id), handles, rooms],
    )) as Affected;
    const [, replies] = (await m.query(
      `DELETE FROM messages WHERE reply_to_id IN (SELECT id FROM messages WHERE sender_user_id = $1)`,
      [userId],
    )) as Affected;
    const [, own] = (await m.query(`DELETE FROM messages WHERE sender_user_id = $1`, [
      userId,
    ])) as Affected;
    await m.query(
      `DELETE FROM llm_usage
        WHERE (user_id = $1 OR room_id = ANY($2::uuid[])) AND api_client_id IS NULL`,
      [userId, rooms],
    );
    const [, roomCount] = (await m.query(`DELETE FROM rooms WHERE id = ANY($1::uuid[])`, [
      rooms,
    ])) as Affected;
    await m.query(
      `UPDATE photos SET metadata = jsonb_set(metadata, '{participants}', COALESCE(
         (SELECT jsonb_agg(p) FROM jsonb_array_elements(metadata->'participants') p
           WHERE NOT (p #>> '{}') = ANY($1::text[])), '[]'::jsonb))
        WHERE jsonb_typeof(metadata->'participants') = 'array'
          AND metadata->'participants' ?| $1::text[]`,
      [handles],
    );
    await m.query(`DELETE FROM otp_challenges WHERE handle = ANY($1::text[]) OR user_id = $2`, [
      handles,
      userId,
    ]);
    // The rest cascades: handles, traits, trait profile, onboarding, sessions, memberships.
    await m.query(`DELETE FROM users WHERE id = $1`, [userId]);
    return {
      rooms: roomCount,
      messages: own + replies,
      scheduledMessages: scheduled.length,
      edgeCommands,
    };
  }

  // ---- export ----

  /** Everything stored about the person, read in one snapshot. */
  async exportOf(userId: string): Promise<PersonExport | undefined> {
    return this.dataSource.transaction('REPEATABLE READ', async (m) => {
      const one = async (sql: string) =>
        ((await m.query(sql, [userId])) as Record<string, unknown>[])[0];
      const all = async (sql: string) =>
        (await m.query(sql, [userId])) as Record<string, unknown>[];

      const person = await one(
        `SELECT id AS user_id, handle AS primary_handle, name, time_zone, created_at, updated_at
           FROM users WHERE id = $1`,
      );
      if (!person) return undefined;
      return {
        person,
        handles: await all(
          `SELECT handle, verified_at, created_at FROM user_handles WHERE user_id = $1
            ORDER BY created_at, handle`,
        ),
        onboarding:
          (await one(
            `SELECT state, started_at, completed_at FROM onboarding_sessions WHERE user_id = $1`,
          )) ?? null,
        trait_profile:
          (await one(
            `SELECT summary, traits_count, updated_at FROM trait_profiles WHERE user_id = $1`,
          )) ?? null,
        traits: await all(
          `SELECT trait, value, confidence, source, source_message_id, created_at, updated_at
             FROM user_traits WHERE user_id = $1 ORDER BY trait`,
        ),
        memories: await all(
          `SELECT id, type, content, confidence, source, room_id, source_message_id,
                  source_photo_id, created_at, last_confirmed_at, superseded_at
             FROM memories WHERE user_id = $1 ORDER BY created_at, id`,
        ),
        rooms: await all(
          `SELECT r.id AS room_id, r.chat_guid, r.type, rp.active, rp.joined_at, rp.last_seen_at
             FROM room_participants rp JOIN rooms r ON r.id = rp.room_id
            WHERE rp.user_id = $1 ORDER BY rp.joined_at, r.id`,
        ),
        // Their messages and the assistant's replies to them; other people's messages in a
        // shared chat are theirs, not this person's.
        messages: await all(
          `SELECT m.id, m.room_id, m.direction, m.sender_handle, m.text, m.message_guid,
                  m.reply_to_id, m.metadata, m.sent_at, m.created_at
             FROM messages m
            WHERE m.sender_user_id = $1
               OR m.reply_to_id IN (SELECT id FROM messages WHERE sender_user_id = $1)
            ORDER BY m.created_at, m.id`,
        ),
        photos: await all(
          `SELECT id, room_id, chat_guid, mime, bytes, sha256, caption, is_group, status,
                  analysis, metadata, created_at, analyzed_at
             FROM photos WHERE owner_user_id = $1 ORDER BY created_at, id`,
        ),
        scheduled_messages: await all(
          `SELECT id, room_id, text, send_at, status, created_at
             FROM scheduled_messages WHERE requested_by_user_id = $1 ORDER BY send_at, id`,
        ),
        // Never the token hashes: a session is described, not handed over.
        sessions: await all(
          `SELECT family_id AS session_id, min(created_at) AS started_at,
                  max(expires_at) AS expires_at, max(revoked_at) AS revoked_at
             FROM refresh_sessions WHERE user_id = $1 GROUP BY family_id ORDER BY 2`,
        ),
        llm_usage: await all(
          `SELECT purpose, model, prompt_tokens, completion_tokens, total_tokens, room_id,
                  created_at
             FROM llm_usage WHERE user_id = $1 ORDER BY created_at, id`,
        ),
      };
    });
  }
}

/** The rooms that are the person's own: direct chats, and chats nobody else is a member of. */
function OWN_ROOMS(userId: string): string {
  return `SELECT rp.room_id FROM room_participants rp JOIN rooms r ON r.id = rp.room_id
           WHERE rp.user_id = ${userId}
             AND (r.type = 'direct' OR NOT EXISTS (
                   SELECT 1 FROM room_participants o
                    WHERE o.room_id = rp.room_id AND o.user_id <> ${userId}))`;
}
