import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A message command (send_message_now, schedule_message) has a time after which it is never
 * pushed: an agent that comes back after a day offline must not send yesterday's replies and
 * reminders. Null for the other types (rules, plans, context), which stay true however late,
 * and for the commands queued before this migration.
 */
export class EdgeCommandExpiry1765000000000 implements MigrationInterface {
  name = 'EdgeCommandExpiry1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE edge_commands ADD COLUMN expires_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE edge_commands DROP COLUMN expires_at`);
  }
}
