import type { MemoryHit } from './memory.service';

/** What the prompt knows about the person it answers. */
export interface SenderContext {
  name: string | null;
  /** Always present: their standing preferences, however the message is worded. */
  preferences: string[];
  /** The memories most relevant to the new message. */
  memories: MemoryHit[];
}

/** One row of senderContextSql's array. */
export type SenderContextRow = MemoryHit & { kind: 'profile' | 'relevant' };

/** Bounds of what one reply's prompt carries about a person. */
const CONTEXT_MEMORIES = 8;
const CONTEXT_CHARS = 1500;
const PROFILE_PREFERENCES = 3;
const QUERY_CHARS = 1000;

/**
 * SQL for the sender's context as one JSON array (a scalar subquery, so the statement that stores
 * a message can read it in the same round trip): up to PROFILE_PREFERENCES standing preferences
 * (`kind: profile`), then the memories most relevant to the new message (`kind: relevant`), best
 * first. Relevance is the full-text rank of the message's words (any of them) against each
 * memory, weighted by confidence and recency (a month-old memory counts half). `userId` and
 * `text` are SQL expressions (parameters or column references).
 */
export function senderContextSql(userId: string, text: string): string {
  return `(SELECT coalesce(json_agg(x ORDER BY x.kind = 'relevant', x.rank), '[]'::json) FROM (
     WITH q AS (
       SELECT to_tsquery('english', coalesce(nullif(array_to_string(
         tsvector_to_array(to_tsvector('english', left(${text}, ${QUERY_CHARS}))), ' | '), ''),
         'zzzznomatch')) AS q
     ), scored AS (
       SELECT m.id, m.type, m.content, m.confidence, m.last_confirmed_at,
              ts_rank_cd(m.search_vector, q.q) * m.confidence
                / (1 + extract(epoch FROM now() - m.last_confirmed_at) / 2592000) AS score
       FROM memories m, q WHERE m.user_id = ${userId} AND m.superseded_at IS NULL
     ), relevant AS (
       SELECT 'relevant' AS kind, *, row_number() OVER (ORDER BY score DESC, last_confirmed_at DESC) AS rank
       FROM scored ORDER BY score DESC, last_confirmed_at DESC LIMIT ${CONTEXT_MEMORIES}
     ), profile AS (
       SELECT 'profile' AS kind, *, row_number() OVER (ORDER BY confidence DESC, last_confirmed_at DESC) AS rank
       FROM scored WHERE type IN ('preference', 'visual_preference')
       ORDER BY confidence DESC, last_confirmed_at DESC LIMIT ${PROFILE_PREFERENCES}
     )
     SELECT kind, rank, id, type, content, confidence, last_confirmed_at AS "lastConfirmedAt"
     FROM (SELECT * FROM profile UNION ALL SELECT * FROM relevant) y
   ) x)`;
}

/** The rows of senderContextSql as the prompt takes them, within CONTEXT_CHARS characters. */
export function toSenderContext(name: string | null, rows: SenderContextRow[]): SenderContext {
  const preferences = rows.filter((r) => r.kind === 'profile').map((r) => r.content);
  const memories: MemoryHit[] = [];
  let chars = preferences.join('').length;
  for (const row of rows) {
    if (row.kind !== 'relevant' || preferences.includes(row.content)) continue;
    if (chars + row.content.length > CONTEXT_CHARS) break;
    chars += row.content.length;
    memories.push({
      id: row.id,
      type: row.type,
      content: row.content,
      confidence: row.confidence,
      lastConfirmedAt: new Date(row.lastConfirmedAt),
    });
  }
  return { name, preferences, memories };
}
