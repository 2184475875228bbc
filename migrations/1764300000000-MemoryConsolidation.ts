import { MigrationInterface, QueryRunner } from 'typeorm';

/** Superseded facts (a changed favourite) are kept for the record but leave every prompt. */
export class MemoryConsolidation1764300000000 implements MigrationInterface {
  name = 'MemoryConsolidation1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE memories
        ADD COLUMN superseded_by uuid REFERENCES memories (id) ON DELETE SET NULL,
        ADD COLUMN superseded_at timestamptz`);
    await q.query(`DROP INDEX memories_user_recent`);
    await q.query(
      `CREATE INDEX memories_user_current ON memories (user_id, last_confirmed_at DESC) WHERE superseded_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX memories_user_current`);
    await q.query(
      `CREATE INDEX memories_user_recent ON memories (user_id, last_confirmed_at DESC)`,
    );
    await q.query(`ALTER TABLE memories DROP COLUMN superseded_at, DROP COLUMN superseded_by`);
  }
}
