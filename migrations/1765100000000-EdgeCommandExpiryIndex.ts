import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The scheduled-messages sweep fails every open message command past its `expires_at`, for
 * agents that stay offline too; this index holds only open message commands, so the sweep reads
 * a handful of entries instead of the whole command history.
 */
export class EdgeCommandExpiryIndex1765100000000 implements MigrationInterface {
  name = 'EdgeCommandExpiryIndex1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX edge_commands_open_expiry ON edge_commands (expires_at)
       WHERE status IN ('pending', 'delivered') AND expires_at IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX edge_commands_open_expiry`);
  }
}
