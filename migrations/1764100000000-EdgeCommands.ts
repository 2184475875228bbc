import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Edge agents as first-class records (identity, version, where their socket is) and the command
 * queue pushed to them over the WebSocket (EDGE_PROTOCOL §4): one row per command, sent in `seq`
 * order, acknowledged by id, never resent once acknowledged.
 */
export class EdgeCommands1764100000000 implements MigrationInterface {
  name = 'EdgeCommands1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE edge_agents
        ADD COLUMN persona_id text,
        ADD COLUMN phone text,
        ADD COLUMN version text,
        ADD COLUMN connected_instance text,
        ADD COLUMN connected_at timestamptz`);

    await q.query(`
      CREATE TABLE edge_commands (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigserial NOT NULL UNIQUE,
        agent_id text NOT NULL REFERENCES edge_agents (id) ON DELETE CASCADE,
        command_type text NOT NULL CHECK (command_type IN ('send_message_now', 'schedule_message',
          'cancel_scheduled', 'set_rule', 'update_plan', 'context_update', 'context_reset',
          'upload_retry', 'emit_event')),
        payload jsonb NOT NULL,
        priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('normal', 'immediate')),
        status text NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'delivered', 'acked', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_sent_at timestamptz,
        acked_at timestamptz,
        delivered_at timestamptz,
        ack_count integer NOT NULL DEFAULT 0,
        error text,
        scheduled_message_id uuid REFERENCES scheduled_messages (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The queue of one agent, in send order: flushes, resends and the pending counts.
    await q.query(
      `CREATE INDEX edge_commands_agent_queue ON edge_commands (agent_id, status, seq)`,
    );
    await q.query(
      `CREATE INDEX edge_commands_scheduled_message ON edge_commands (scheduled_message_id)
        WHERE scheduled_message_id IS NOT NULL`,
    );

    // The agent that last relayed the room: where commands for that chat must go.
    await q.query(`ALTER TABLE rooms ADD COLUMN edge_agent_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rooms DROP COLUMN edge_agent_id`);
    await q.query(`DROP TABLE edge_commands`);
    await q.query(`
      ALTER TABLE edge_agents
        DROP COLUMN connected_at,
        DROP COLUMN connected_instance,
        DROP COLUMN version,
        DROP COLUMN phone,
        DROP COLUMN persona_id`);
  }
}
