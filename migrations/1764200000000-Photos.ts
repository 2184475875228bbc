import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Photos people send (SPEC §6, §7): one row per upload by a sender to a chat, the bytes stored
 * once per content hash, the analysis on the row, and the `visual_*` memories it produced tied
 * to it (deleting a photo deletes them).
 */
export class Photos1764200000000 implements MigrationInterface {
  name = 'Photos1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE photos (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        room_id uuid REFERENCES rooms (id) ON DELETE SET NULL,
        chat_guid text NOT NULL,
        edge_agent_id text,
        attachment_guid text,
        storage_key text NOT NULL,
        mime text NOT NULL CHECK (mime IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif',
          'image/heic', 'image/heif')),
        bytes integer NOT NULL CHECK (bytes > 0),
        sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        caption text,
        is_group boolean NOT NULL DEFAULT false,
        status text NOT NULL CHECK (status IN ('stored', 'processing', 'analyzed', 'failed')),
        analysis jsonb,
        error text,
        metadata jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        analyzed_at timestamptz
      )`);
    // The same bytes from the same sender to the same chat are one photo (a re-upload).
    await q.query(
      `CREATE UNIQUE INDEX photos_owner_chat_sha ON photos (owner_user_id, chat_guid, sha256)`,
    );
    // Whether a stored file is still referenced, before deleting it.
    await q.query(`CREATE INDEX photos_sha256 ON photos (sha256)`);
    // A room's photos waiting for a mention (analyzeStoredForRoom), newest first.
    await q.query(
      `CREATE INDEX photos_chat_stored ON photos (chat_guid, created_at DESC) WHERE status = 'stored'`,
    );
    await q.query(`CREATE INDEX photos_room ON photos (room_id)`);

    // No photo existed before this table, so no earlier memory can point at one.
    await q.query(`UPDATE memories SET source_photo_id = NULL WHERE source_photo_id IS NOT NULL`);
    await q.query(`
      ALTER TABLE memories
        ADD CONSTRAINT memories_source_photo_fk FOREIGN KEY (source_photo_id)
        REFERENCES photos (id) ON DELETE CASCADE`);
    await q.query(
      `CREATE INDEX memories_source_photo ON memories (source_photo_id) WHERE source_photo_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX memories_source_photo`);
    await q.query(`ALTER TABLE memories DROP CONSTRAINT memories_source_photo_fk`);
    await q.query(`DROP TABLE photos`);
  }
}
