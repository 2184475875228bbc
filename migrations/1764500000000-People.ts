import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Phone sign-in for people. One-time codes live in otp_challenges, stored only as an HMAC of the
 * code (10 minutes, 5 attempts). Sessions are refresh-token families: every refresh spends one
 * row and adds the next one to the same family; presenting a spent token revokes the family.
 * Access tokens carry the family id, so revoking a family ends its access tokens at once.
 * Both tables go with the person (ON DELETE CASCADE).
 */
export class People1764500000000 implements MigrationInterface {
  name = 'People1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE otp_challenges (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        phone text NOT NULL,
        code_hash text NOT NULL,
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        expires_at timestamptz NOT NULL,
        consumed_at timestamptz,
        invalidated_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX otp_challenges_phone ON otp_challenges (phone, created_at DESC)`);

    await q.query(`
      CREATE TABLE refresh_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        family_id uuid NOT NULL,
        token_hash text NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX refresh_sessions_token ON refresh_sessions (token_hash)`);
    await q.query(`CREATE INDEX refresh_sessions_family ON refresh_sessions (family_id)`);
    await q.query(`CREATE INDEX refresh_sessions_user ON refresh_sessions (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE refresh_sessions`);
    await q.query(`DROP TABLE otp_challenges`);
  }
}
