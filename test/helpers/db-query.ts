import { Client } from 'pg';

/** Runs one query against a test database (for assertions on what was stored). */
export async function query<T = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Row counts of the tables a turn writes, to prove a refused request wrote nothing. */
export async function turnTableCounts(url: string): Promise<Record<string, number>> {
  const [row] = await query<Record<string, string>>(
    url,
    `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM rooms) AS rooms,
            (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM memories) AS memories,
            (SELECT count(*) FROM scheduled_messages) AS scheduled, (SELECT count(*) FROM llm_usage) AS usage`,
  );
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
}
