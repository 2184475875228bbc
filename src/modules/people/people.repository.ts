import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface OtpChallengeRow {
  id: string;
  codeHash: string;
  attempts: number;
  expiresAt: Date;
  consumedAt: Date | null;
  invalidatedAt: Date | null;
}

export interface RefreshSessionRow {
  id: string;
  userId: string;
  familyId: string;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

export interface PersonRow {
  id: string;
  handle: string;
  name: string | null;
  timeZone: string | null;
  createdAt: Date;
}

export interface RelationshipFigures {
  firstContactAt: Date | null;
  messagesExchanged: number;
  memoriesCount: number;
}

export interface MemoryRow {
  id: string;
  type: string;
  content: string;
  source: string;
  confidence: number;
  createdAt: Date;
  lastConfirmedAt: Date;
}

const PERSON = `id, handle, name, time_zone AS "timeZone", created_at AS "createdAt"`;

/** Who a one-time code is for: sign-in codes by handle, link codes by handle and person. */
export interface CodeScope {
  handle: string;
  purpose: 'sign_in' | 'link_handle';
  /** The person asking (link codes only). */
  userId?: string;
}

/** The only place that queries otp_challenges, refresh_sessions and a person's own rows. */
@Injectable()
export class PeopleRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  // ---- one-time codes ----

  /** A new challenge for the scope; any older open one of the same scope stops counting. */
  async createChallenge(scope: CodeScope, codeHash: string, ttlSeconds: number): Promise<string> {
    return this.transaction(async (m) => {
      await m.query(
        `UPDATE otp_challenges SET invalidated_at = now()
          WHERE handle = $1 AND purpose = $2 AND user_id IS NOT DISTINCT FROM $3
            AND consumed_at IS NULL AND invalidated_at IS NULL`,
        [scope.handle, scope.purpose, scope.userId ?? null],
      );
      const [row] = (await m.query(
        `INSERT INTO otp_challenges (handle, purpose, user_id, code_hash, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING id`,
        [scope.handle, scope.purpose, scope.userId ?? null, codeHash, ttlSeconds],
      )) as { id: string }[];
      return row.id;
    });
  }

  async deleteChallenge(id: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM otp_challenges WHERE id = $1`, [id]);
  }

  /** The scope's latest challenge, locked for the rest of the transaction. */
  async latestChallengeForUpdate(
    m: EntityManager,
    scope: CodeScope,
  ): Promise<OtpChallengeRow | undefined> {
    const rows = (await m.query(
      `SELECT id, code_hash AS "codeHash", attempts, expires_at AS "expiresAt",
              consumed_at AS "consumedAt", invalidated_at AS "invalidatedAt"
         FROM otp_challenges
        WHERE handle = $1 AND purpose = $2 AND user_id IS NOT DISTINCT FROM $3
        ORDER BY created_at DESC LIMIT 1 FOR UPDATE`,
      [scope.handle, scope.purpose, scope.userId ?? null],
    )) as OtpChallengeRow[];
    return rows[0];
  }

  async recordWrongAttempt(m: EntityManager, id: string, maxAttempts: number): Promise<number> {
    // UPDATE answers [rows, count] through TypeORM's Postgres driver.
    const [rows] = (await m.query(
      `UPDATE otp_challenges SET attempts = attempts + 1,
              invalidated_at = CASE WHEN attempts + 1 >= $2 THEN now() END
        WHERE id = $1 RETURNING attempts`,
      [id, maxAttempts],
    )) as [{ attempts: number }[], number];
    return rows[0].attempts;
  }

  async consumeChallenge(m: EntityManager, id: string): Promise<void> {
    await m.query(`UPDATE otp_challenges SET consumed_at = now() WHERE id = $1`, [id]);
  }

  // ---- people ----

  /**
   * The person a confirmed sign-in code proves: the one this handle belongs to (iMessage may
   * know them already, or it was linked to someone), created when new. The handle becomes
   * verified; `name` fills an empty one.
   */
  async personForSignIn(
    m: EntityManager,
    handle: string,
    name: string | undefined,
  ): Promise<{ id: string; created: boolean }> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      // UPDATE answers [rows, count]; the row lock also holds off a concurrent merge of it.
      const [[known]] = (await m.query(
        `UPDATE user_handles SET verified_at = COALESCE(verified_at, now())
          WHERE handle = $1 RETURNING user_id AS id`,
        [handle],
      )) as [{ id: string }[], number];
      if (known) {
        await m.query(
          `UPDATE users SET name = $2, updated_at = now()
            WHERE id = $1 AND name IS NULL AND $2::text IS NOT NULL`,
          [known.id, name ?? null],
        );
        return { id: known.id, created: false };
      }
      // Both inserts give way to a concurrent one (which then wins): read the winner's row.
      const [created] = (await m.query(
        `INSERT INTO users (handle, name) VALUES ($1, $2) ON CONFLICT (handle) DO NOTHING
         RETURNING id`,
        [handle, name ?? null],
      )) as { id: string }[];
      if (!created) continue;
      const [linked] = (await m.query(
        `INSERT INTO user_handles (handle, user_id, verified_at) VALUES ($1, $2, now())
         ON CONFLICT (handle) DO NOTHING RETURNING handle`,
        [handle, created.id],
      )) as unknown[];
      if (linked) return { id: created.id, created: true };
      await m.query(`DELETE FROM users WHERE id = $1`, [created.id]);
    }
    throw new Error('could not resolve the person of a handle being signed in');
  }

  async person(userId: string): Promise<PersonRow | undefined> {
    const rows = (await this.dataSource.query(`SELECT ${PERSON} FROM users WHERE id = $1`, [
      userId,
    ])) as PersonRow[];
    return rows[0];
  }

  async updatePerson(
    userId: string,
    changes: { name?: string | null; timeZone?: string | null },
  ): Promise<PersonRow | undefined> {
    const sets: string[] = [];
    const params: unknown[] = [userId];
    if (changes.name !== undefined) {
      params.push(changes.name);
      sets.push(`name = $${params.length}`);
    }
    if (changes.timeZone !== undefined) {
      params.push(changes.timeZone);
      sets.push(`time_zone = $${params.length}`);
    }
    if (!sets.length) return this.person(userId);
    const [rows] = (await this.dataSource.query(
      `UPDATE users SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING ${PERSON}`,
      params,
    )) as [PersonRow[], number];
    return rows[0];
  }

  async personasTalkedTo(userId: string): Promise<{ id: string; name: string }[]> {
    return (await this.dataSource.query(
      `SELECT DISTINCT p.id, p.name
         FROM room_participants rp
         JOIN assistant_instances ai ON ai.room_id = rp.room_id
         JOIN personas p ON p.id = ai.persona_id
        WHERE rp.user_id = $1 ORDER BY p.id`,
      [userId],
    )) as { id: string; name: string }[];
  }

  /** Their messages plus the assistant's replies to them; first contact = their first message. */
  async relationship(userId: string): Promise<RelationshipFigures> {
    const [row] = (await this.dataSource.query(
      `WITH mine AS (SELECT id, created_at FROM messages WHERE sender_user_id = $1)
       SELECT (SELECT min(created_at) FROM mine) AS "firstContactAt",
              (SELECT count(*) FROM mine)
                + (SELECT count(*) FROM messages r WHERE r.direction = 'outbound'
                     AND r.reply_to_id IN (SELECT id FROM mine)) AS "messagesExchanged",
              (SELECT count(*) FROM memories
                WHERE user_id = $1 AND superseded_at IS NULL) AS "memoriesCount"`,
      [userId],
    )) as { firstContactAt: Date | null; messagesExchanged: string; memoriesCount: string }[];
    return {
      firstContactAt: row.firstContactAt,
      messagesExchanged: Number(row.messagesExchanged),
      memoriesCount: Number(row.memoriesCount),
    };
  }

  // ---- memories ----

  async memories(userId: string): Promise<MemoryRow[]> {
    return (await this.dataSource.query(
      `SELECT id, type, content, source, confidence, created_at AS "createdAt",
              last_confirmed_at AS "lastConfirmedAt"
         FROM memories WHERE user_id = $1 AND superseded_at IS NULL
        ORDER BY last_confirmed_at DESC, id`,
      [userId],
    )) as MemoryRow[];
  }

  /** Deletes one of the person's memories; false when it is not theirs (or not there). */
  async deleteMemory(userId: string, memoryId: string): Promise<boolean> {
    const [, count] = (await this.dataSource.query(
      `DELETE FROM memories WHERE id = $1 AND user_id = $2`,
      [memoryId, userId],
    )) as [unknown, number];
    return count > 0;
  }

  // ---- sessions ----

  async insertRefresh(
    m: EntityManager,
    row: { userId: string; familyId: string; tokenHash: string; ttlSeconds: number },
  ): Promise<void> {
    await m.query(
      `INSERT INTO refresh_sessions (user_id, family_id, token_hash, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      [row.userId, row.familyId, row.tokenHash, row.ttlSeconds],
    );
  }

  async refreshForUpdate(
    m: EntityManager,
    tokenHash: string,
  ): Promise<RefreshSessionRow | undefined> {
    const rows = (await m.query(
      `SELECT id, user_id AS "userId", family_id AS "familyId", expires_at AS "expiresAt",
              used_at AS "usedAt", revoked_at AS "revokedAt"
         FROM refresh_sessions WHERE token_hash = $1 FOR UPDATE`,
      [tokenHash],
    )) as RefreshSessionRow[];
    return rows[0];
  }

  async markUsed(m: EntityManager, id: string): Promise<void> {
    await m.query(`UPDATE refresh_sessions SET used_at = now() WHERE id = $1`, [id]);
  }

  async revokeFamily(m: EntityManager | undefined, familyId: string): Promise<void> {
    await (m ?? this.dataSource).query(
      `UPDATE refresh_sessions SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`,
      [familyId],
    );
  }

  /** A session is alive while its family has an unrevoked, unexpired row (one indexed probe). */
  async sessionAlive(userId: string, familyId: string): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `SELECT 1 FROM refresh_sessions
        WHERE family_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()
        LIMIT 1`,
      [familyId, userId],
    )) as unknown[];
    return rows.length > 0;
  }
}
