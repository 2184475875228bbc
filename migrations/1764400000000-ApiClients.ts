import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API clients of the gateway (`/auth/token`, `/v1/*`): a key is stored only as its 12-character
 * public prefix (for lookup) and a bcrypt hash. `key_generation` grows on every re-key, and the
 * client tokens carry it, so a re-key revokes every older token at once. The usage ledger learns
 * which client a call was made for (per-client budgets and the usage report).
 */
export class ApiClients1764400000000 implements MigrationInterface {
  name = 'ApiClients1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_clients (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        key_prefix text NOT NULL CHECK (length(key_prefix) = 12),
        key_hash text NOT NULL,
        key_generation integer NOT NULL DEFAULT 1,
        scopes text[] NOT NULL DEFAULT '{chat,history,tools}'
          CHECK (scopes <@ ARRAY['chat', 'history', 'tools']::text[]),
        rate_limit_per_min integer CHECK (rate_limit_per_min > 0),
        monthly_token_budget bigint CHECK (monthly_token_budget >= 0),
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX api_clients_key_prefix ON api_clients (key_prefix)`);
    await q.query(`
      ALTER TABLE llm_usage
        ADD COLUMN api_client_id uuid REFERENCES api_clients (id) ON DELETE SET NULL`);
    await q.query(
      `CREATE INDEX llm_usage_api_client ON llm_usage (api_client_id, created_at) WHERE api_client_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX llm_usage_api_client`);
    await q.query(`ALTER TABLE llm_usage DROP COLUMN api_client_id`);
    await q.query(`DROP TABLE api_clients`);
  }
}
