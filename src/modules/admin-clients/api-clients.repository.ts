import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export const API_CLIENT_SCOPES = ['chat', 'history', 'tools'] as const;
export type ApiClientScope = (typeof API_CLIENT_SCOPES)[number];

export interface ApiClientRow {
  id: string;
  name: string;
  keyPrefix: string;
  keyGeneration: number;
  scopes: ApiClientScope[];
  rateLimitPerMin: number | null;
  monthlyTokenBudget: number | null;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastUsedAt: Date | null;
}

export interface ApiClientChanges {
  name?: string;
  scopes?: ApiClientScope[];
  rateLimitPerMin?: number | null;
  monthlyTokenBudget?: number | null;
  active?: boolean;
}

export interface DailyUsage {
  day: string;
  llmCalls: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  chatRequests: number;
}

const COLUMNS = `id, name, key_prefix AS "keyPrefix", key_generation AS "keyGeneration", scopes,
  rate_limit_per_min AS "rateLimitPerMin", monthly_token_budget::float8 AS "monthlyTokenBudget",
  active, created_at AS "createdAt", updated_at AS "updatedAt", last_used_at AS "lastUsedAt"`;

const CHANGEABLE: Record<keyof ApiClientChanges, string> = {
  name: 'name',
  scopes: 'scopes',
  rateLimitPerMin: 'rate_limit_per_min',
  monthlyTokenBudget: 'monthly_token_budget',
  active: 'active',
};

/** The chat GUID prefix of every room an API client owns: `api:<clientId>:<conversationId>`. */
export function clientChatGuidPrefix(clientId: string): string {
  return `api:${clientId}:`;
}

/** The only place that queries api_clients (and the client's slice of the usage ledger). */
@Injectable()
export class ApiClientsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(): Promise<ApiClientRow[]> {
    return this.dataSource.query(`SELECT ${COLUMNS} FROM api_clients ORDER BY created_at, id`);
  }

  async find(id: string): Promise<ApiClientRow | undefined> {
    const rows: ApiClientRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM api_clients WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async findByPrefix(prefix: string): Promise<(ApiClientRow & { keyHash: string }) | undefined> {
    const rows: (ApiClientRow & { keyHash: string })[] = await this.dataSource.query(
      `SELECT ${COLUMNS}, key_hash AS "keyHash" FROM api_clients WHERE key_prefix = $1`,
      [prefix],
    );
    return rows[0];
  }

  async create(input: {
    name: string;
    scopes: ApiClientScope[];
    rateLimitPerMin: number | null;
    monthlyTokenBudget: number | null;
    keyPrefix: string;
    keyHash: string;
  }): Promise<ApiClientRow> {
    const [row] = await this.dataSource.query(
      `INSERT INTO api_clients (name, scopes, rate_limit_per_min, monthly_token_budget, key_prefix, key_hash)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [
        input.name,
        input.scopes,
        input.rateLimitPerMin,
        input.monthlyTokenBudget,
        input.keyPrefix,
        input.keyHash,
      ],
    );
    return row as ApiClientRow;
  }

  async update(id: string, changes: ApiClientChanges): Promise<ApiClientRow | undefined> {
    const sets: string[] = [];
    const params: unknown[] = [id];
    for (const [field, column] of Object.entries(CHANGEABLE)) {
      const value = changes[field as keyof ApiClientChanges];
      if (value === undefined) continue;
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    }
    const [rows] = await this.dataSource.query(
      `UPDATE api_clients SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1
       RETURNING ${COLUMNS}`,
      params,
    );
    return (rows as ApiClientRow[])[0];
  }

  /** A new key; the generation grows so tokens issued for the old key stop verifying. */
  async rekey(id: string, prefix: string, hash: string): Promise<ApiClientRow | undefined> {
    const [rows] = await this.dataSource.query(
      `UPDATE api_clients SET key_prefix = $2, key_hash = $3, key_generation = key_generation + 1,
         updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, prefix, hash],
    );
    return (rows as ApiClientRow[])[0];
  }

  async delete(id: string): Promise<boolean> {
    const [, count] = await this.dataSource.query(`DELETE FROM api_clients WHERE id = $1`, [id]);
    return Number(count) > 0;
  }

  async touch(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE api_clients SET last_used_at = now() WHERE id = $1`, [id]);
  }

  /** Tokens the client's turns used since the start of the current month (UTC). */
  async tokensThisMonth(id: string): Promise<number> {
    const [row] = await this.dataSource.query(
      `SELECT COALESCE(sum(total_tokens), 0)::float8 AS total FROM llm_usage
       WHERE api_client_id = $1 AND created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`,
      [id],
    );
    return Number((row as { total: number }).total);
  }

  /** Marks the ledger rows of a client's room as the client's (after each /v1 turn). */
  async attributeUsage(id: string, roomId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE llm_usage SET api_client_id = $1 WHERE room_id = $2 AND api_client_id IS NULL`,
      [id, roomId],
    );
  }

  /** Per UTC day, newest first: LLM calls and tokens from the ledger, chat turns from messages. */
  async dailyUsage(id: string, days: number): Promise<DailyUsage[]> {
    return this.dataSource.query(
      `WITH u AS (
         SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*)::int AS "llmCalls",
                sum(prompt_tokens)::int AS "promptTokens",
                sum(completion_tokens)::int AS "completionTokens",
                sum(total_tokens)::int AS "totalTokens"
         FROM llm_usage
         WHERE api_client_id = $1 AND created_at >= now() - make_interval(days => $2)
         GROUP BY 1
       ), c AS (
         SELECT (m.created_at AT TIME ZONE 'UTC')::date AS day, count(*)::int AS "chatRequests"
         FROM messages m JOIN rooms r ON r.id = m.room_id
         WHERE r.chat_guid LIKE $3 AND m.direction = 'inbound'
           AND m.created_at >= now() - make_interval(days => $2)
         GROUP BY 1
       )
       SELECT to_char(COALESCE(u.day, c.day), 'YYYY-MM-DD') AS day,
              COALESCE(u."llmCalls", 0) AS "llmCalls",
              COALESCE(u."promptTokens", 0) AS "promptTokens",
              COALESCE(u."completionTokens", 0) AS "completionTokens",
              COALESCE(u."totalTokens", 0) AS "totalTokens",
              COALESCE(c."chatRequests", 0) AS "chatRequests"
       FROM u FULL JOIN c ON c.day = u.day
       ORDER BY 1 DESC`,
      [id, days, `${clientChatGuidPrefix(id)}%`],
    );
  }
}
