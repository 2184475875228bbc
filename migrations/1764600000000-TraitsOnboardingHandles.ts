import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A person's handles, traits and onboarding (SPEC §7; issue #7 items 6 and 9).
 *
 * - user_handles: every handle (E.164 phone, Apple ID email, API client id) and the person it
 *   belongs to. Messages, photos and sign-in resolve a handle here, so a second handle linked to
 *   a person brings its messages to them. users.handle stays as the person's primary handle (the
 *   first one they were known by); a deferred foreign key keeps it among the person's own
 *   handles, so no person can exist without their handle row, and a merge can move handles and
 *   delete the merged person in one transaction. Backfilled from users; a handle counts as
 *   verified once a code sent to it was confirmed (sign-in before this migration included).
 * - otp_challenges: codes now serve sign-in and linking a handle, so `phone` becomes `handle`;
 *   a link code belongs to the person who asked for it.
 * - user_traits / trait_profiles: stable traits the memory-extraction job finds (one value per
 *   trait and person), and the short summary of them the reply prompt carries.
 * - onboarding_sessions: started by a person's first message, completed once their name and time
 *   zone are known. People who talked before this migration get a session whose state follows
 *   what is already known about them, and are not introduced to again.
 */
export class TraitsOnboardingHandles1764600000000 implements MigrationInterface {
  name = 'TraitsOnboardingHandles1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_handles (
        handle text PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        verified_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (handle, user_id)
      )`);
    await q.query(`CREATE INDEX user_handles_user ON user_handles (user_id)`);
    await q.query(`
      INSERT INTO user_handles (handle, user_id, verified_at, created_at)
      SELECT u.handle, u.id,
             (SELECT min(s.created_at) FROM refresh_sessions s WHERE s.user_id = u.id),
             u.created_at
        FROM users u`);
    await q.query(`
      ALTER TABLE users ADD CONSTRAINT users_primary_handle_fk FOREIGN KEY (handle, id)
        REFERENCES user_handles (handle, user_id) DEFERRABLE INITIALLY DEFERRED`);

    await q.query(`ALTER TABLE otp_challenges RENAME COLUMN phone TO handle`);
    await q.query(`
      ALTER TABLE otp_challenges
        ADD COLUMN purpose text NOT NULL DEFAULT 'sign_in' CHECK (purpose IN ('sign_in', 'link_handle')),
        ADD COLUMN user_id uuid REFERENCES users (id) ON DELETE CASCADE,
        ADD CONSTRAINT otp_challenges_link_owner CHECK ((purpose = 'link_handle') = (user_id IS NOT NULL))`);
    await q.query(`DROP INDEX otp_challenges_phone`);
    await q.query(
      `CREATE INDEX otp_challenges_handle ON otp_challenges (handle, purpose, created_at DESC)`,
    );
    await q.query(
      `CREATE INDEX otp_challenges_user ON otp_challenges (user_id) WHERE user_id IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE user_traits (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        trait text NOT NULL CHECK (trait ~ '^[a-z][a-z0-9_]{0,39}$'),
        value text NOT NULL CHECK (char_length(value) BETWEEN 1 AND 200),
        confidence real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
        source text NOT NULL,
        source_message_id uuid REFERENCES messages (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (user_id, trait)
      )`);

    await q.query(`
      CREATE TABLE trait_profiles (
        user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        summary text NOT NULL CHECK (char_length(summary) BETWEEN 1 AND 600),
        traits_count integer NOT NULL CHECK (traits_count > 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE onboarding_sessions (
        user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        state text NOT NULL DEFAULT 'started'
          CHECK (state IN ('started', 'name_known', 'completed')),
        started_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((state = 'completed') = (completed_at IS NOT NULL))
      )`);
    await q.query(`
      INSERT INTO onboarding_sessions (user_id, state, started_at, completed_at)
      SELECT u.id,
             CASE WHEN u.name IS NOT NULL AND u.time_zone IS NOT NULL THEN 'completed'
                  WHEN u.name IS NOT NULL THEN 'name_known' ELSE 'started' END,
             first.at,
             CASE WHEN u.name IS NOT NULL AND u.time_zone IS NOT NULL THEN now() END
        FROM users u
        JOIN LATERAL (SELECT min(m.created_at) AS at FROM messages m
                       WHERE m.sender_user_id = u.id) first ON first.at IS NOT NULL`);

    // Export, merge and erasure find a person's messages by sender; deleting a message makes
    // Postgres look up the rows that reference it, which without these is a scan per message.
    await q.query(
      `CREATE INDEX messages_sender ON messages (sender_user_id) WHERE sender_user_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX messages_reply_to ON messages (reply_to_id) WHERE reply_to_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX memories_source_message ON memories (source_message_id) WHERE source_message_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX scheduled_messages_requested_by ON scheduled_messages (requested_by_user_id) WHERE requested_by_user_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const index of [
      'scheduled_messages_requested_by',
      'memories_source_message',
      'messages_reply_to',
      'messages_sender',
    ]) {
      await q.query(`DROP INDEX ${index}`);
    }
    await q.query(`DROP TABLE onboarding_sessions`);
    await q.query(`DROP TABLE trait_profiles`);
    await q.query(`DROP TABLE user_traits`);
    await q.query(`DELETE FROM otp_challenges WHERE purpose <> 'sign_in'`);
    await q.query(`DROP INDEX otp_challenges_user`);
    await q.query(`DROP INDEX otp_challenges_handle`);
    await q.query(`
      ALTER TABLE otp_challenges
        DROP CONSTRAINT otp_challenges_link_owner, DROP COLUMN user_id, DROP COLUMN purpose`);
    await q.query(`ALTER TABLE otp_challenges RENAME COLUMN handle TO phone`);
    await q.query(`CREATE INDEX otp_challenges_phone ON otp_challenges (phone, created_at DESC)`);
    // Linked handles have no place in the older schema: their messages stay with the person.
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_primary_handle_fk`);
    await q.query(`DROP TABLE user_handles`);
  }
}
