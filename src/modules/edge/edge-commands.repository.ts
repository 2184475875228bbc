import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EdgeCommandPriority, EdgeCommandType } from './command-payloads';
import { EdgeCommandStatus } from './entities/edge-command.entity';

/** A stored command (edge_commands row). */
export interface EdgeCommand {
  id: string;
  /** Send order. */
  seq: number;
  agentId: string;
  commandType: EdgeCommandType;
  payload: Record<string, unknown>;
  priority: EdgeCommandPriority;
  status: EdgeCommandStatus;
  /** Times it was pushed to the agent. */
  attempts: number;
  lastSentAt: Date | null;
  /** First ack. */
  ackedAt: Date | null;
  /** Second ack of a `schedule_message`: the Mac actually sent it. */
  deliveredAt: Date | null;
  ackCount: number;
  error: string | null;
  scheduledMessageId: string | null;
  /** Never pushed after this; null = no deadline. */
  expiresAt: Date | null;
  createdAt: Date;
}

interface RawCommand {
  id: string;
  seq: string;
  agent_id: string;
  command_type: EdgeCommandType;
  payload: Record<string, unknown>;
  priority: EdgeCommandPriority;
  status: EdgeCommandStatus;
  attempts: number;
  last_sent_at: Date | null;
  acked_at: Date | null;
  delivered_at: Date | null;
  ack_count: number;
  error: string | null;
  scheduled_message_id: string | null;
  expires_at: Date | null;
  created_at: Date;
}

function toCommand(row: RawCommand): EdgeCommand {
  return {
    id: row.id,
    seq: Number(row.seq),
    agentId: row.agent_id,
    commandType: row.command_type,
    payload: row.payload,
    priority: row.priority,
    status: row.status,
    attempts: row.attempts,
    lastSentAt: row.last_sent_at,
    ackedAt: row.acked_at,
    deliveredAt: row.delivered_at,
    ackCount: row.ack_count,
    error: row.error,
    scheduledMessageId: row.scheduled_message_id,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
  };
}

/** The error of a message command failed at its `expires_at` (a delivered one may be on the Mac). */
const EXPIRED_ERROR = 'expired before it was acknowledged: not pushed again';

/** UPDATE … RETURNING through TypeORM's query() yields [rows, count]. */
function returned(result: unknown): RawCommand[] {
  if (Array.isArray(result) && Array.isArray(result[0])) return result[0] as RawCommand[];
  return result as RawCommand[];
}

/**
 * Which commands a send picks up:
 * - `new`: only those never sent (a command was just created);
 * - `due`: those, plus sent ones whose ack is overdue (the resend sweep, `/edge/sync`);
 * - `reconnect`: those, plus every sent one not acked yet: what a previous socket may have lost
 *   (the first push on a new socket, before anything else went out on it).
 */
export type ClaimMode = 'new' | 'due' | 'reconnect';

/** What an ack did to a command (see `EdgeCommandsRepository.applyAcks`). */
export type AckStage = 'received' | 'delivered';

export interface NewEdgeCommand {
  id: string;
  agentId: string;
  commandType: EdgeCommandType;
  payload: Record<string, unknown>;
  priority: EdgeCommandPriority;
  scheduledMessageId: string | null;
  expiresAt: Date | null;
}

/** An ack of `commandId` from `agentId`, received at `now`. */
export interface EdgeAckInput {
  commandId: string;
  agentId: string;
  ok: boolean;
  /** Null when ok. */
  error: string | null;
  completedAt: Date | null;
  now: Date;
}

export interface AppliedAck {
  /** The row after the ack. */
  command: EdgeCommand;
  stage: AckStage | null;
}

/** Postgres class 22 (data exception), e.g. a text that is no valid time. */
export function isDataException(err: unknown): boolean {
  return String((err as { code?: unknown } | null)?.code ?? '').startsWith('22');
}

/**
 * An ISO 8601 time with its zone, as `send_at` is stored (`…Z`), for Postgres to read as a
 * timestamptz. Anything else (e.g. a row written outside the app) counts as no `send_at`.
 */
const ISO_TIME =
  '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}(:?\\d{2})?)$';

/** The only place that queries edge_commands. */
@Injectable()
export class EdgeCommandsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores commands (ids chosen by the caller), creating their agents (edge_agents rows) when
   * unknown, in one statement whatever their number: the agent upsert runs in a CTE, and the
   * foreign key is checked at the end of the statement, after it. (edge_agents is otherwise only
   * queried by EdgeAgentsRepository.) `seq` follows the order of `inputs`. By id.
   */
  async insert(inputs: readonly NewEdgeCommand[]): Promise<Map<string, EdgeCommand>> {
    const rows = (await this.dataSource.query(
      `WITH agent AS (
         INSERT INTO edge_agents (id)
         SELECT DISTINCT unnest($2::text[]) ORDER BY 1
         ON CONFLICT (id) DO NOTHING
       )
       INSERT INTO edge_commands (id, agent_id, command_type, payload, priority,
         scheduled_message_id, expires_at)
       SELECT id, agent_id, command_type, payload, priority, scheduled_message_id, expires_at
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::text[], $6::uuid[],
                   $7::timestamptz[])
         WITH ORDINALITY AS n (id, agent_id, command_type, payload, priority,
           scheduled_message_id, expires_at, ord)
       ORDER BY ord
       RETURNING *`,
      [
        inputs.map((c) => c.id),
        inputs.map((c) => c.agentId),
        inputs.map((c) => c.commandType),
        inputs.map((c) => JSON.stringify(c.payload)),
        inputs.map((c) => c.priority),
        inputs.map((c) => c.scheduledMessageId),
        inputs.map((c) => c.expiresAt),
      ],
    )) as RawCommand[];
    return new Map(rows.map((row) => [row.id, toCommand(row)]));
  }

  /**
   * Marks each agent's next commands delivered (attempts + 1, last_sent_at = now) and returns
   * them by agent, in send order, for the caller to push: at most `limit` per agent, in one
   * statement whatever the number of agents. Atomic: two concurrent claims never return one row
   * twice. A command sent `maxAttempts` times, or past its `expires_at`, is never claimed again.
   */
  async claim(
    agentIds: readonly string[],
    mode: ClaimMode,
    options: { resendAfterMs: number; maxAttempts: number; limit: number },
  ): Promise<Map<string, EdgeCommand[]>> {
    const byAgent = new Map<string, EdgeCommand[]>();
    const ids = [...new Set(agentIds)];
    for (const id of ids) byAgent.set(id, []);
    if (ids.length === 0) return byAgent;
    const rows = returned(
      await this.dataSource.query(
        `UPDATE edge_commands c
         SET status = 'delivered', attempts = c.attempts + 1, last_sent_at = now()
         FROM (
           SELECT p.id
           FROM unnest($1::text[]) AS a (agent_id)
           CROSS JOIN LATERAL (
             SELECT id FROM edge_commands
             WHERE agent_id = a.agent_id
               AND (expires_at IS NULL OR expires_at > now())
               AND (status = 'pending'
                 OR (status = 'delivered' AND attempts < $2
                   AND ($3 = 'reconnect'
                     OR ($3 = 'due' AND last_sent_at <= now() - make_interval(secs => $4)))))
             ORDER BY seq
             LIMIT $5
             FOR UPDATE SKIP LOCKED
           ) p
         ) pick
         WHERE c.id = pick.id
         RETURNING c.*`,
        [ids, options.maxAttempts, mode, options.resendAfterMs / 1000, options.limit],
      ),
    );
    for (const command of rows.map(toCommand).sort((a, b) => a.seq - b.seq)) {
      byAgent.get(command.agentId)?.push(command);
    }
    return byAgent;
  }

  /**
   * Failed: sent `maxAttempts` times, the last one `resendAfterMs` ago, still no ack; or past its
   * `expires_at` before it was acked (never pushed again: the Mac may have it, or not).
   */
  async expireUnacked(
    agentIds: readonly string[],
    options: { resendAfterMs: number; maxAttempts: number },
  ): Promise<EdgeCommand[]> {
    if (agentIds.length === 0) return [];
    const rows = returned(
      await this.dataSource.query(
        `UPDATE edge_commands
         SET status = 'failed',
             error = CASE WHEN expires_at <= now() THEN $5 ELSE $3 END
         WHERE agent_id = ANY($1)
           AND ((status = 'delivered' AND attempts >= $2
                 AND last_sent_at <= now() - make_interval(secs => $4))
             OR (status IN ('pending', 'delivered') AND expires_at <= now()))
         RETURNING *`,
        [
          [...new Set(agentIds)],
          options.maxAttempts,
          `not acknowledged after ${options.maxAttempts} sends`,
          options.resendAfterMs / 1000,
          EXPIRED_ERROR,
        ],
      ),
    );
    return rows.map(toCommand).sort((a, b) => a.seq - b.seq);
  }

  /**
   * Fails up to `limit` open commands of any agent past their `expires_at`, oldest deadline
   * first; rows another transaction holds (a claim, an ack) are left to it.
   */
  async expireOverdue(limit: number): Promise<EdgeCommand[]> {
    const rows = returned(
      await this.dataSource.query(
        `UPDATE edge_commands SET status = 'failed', error = $2
         WHERE id IN (
           SELECT id FROM edge_commands
           WHERE status IN ('pending', 'delivered') AND expires_at IS NOT NULL AND expires_at <= now()
           ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING *`,
        [limit, EXPIRED_ERROR],
      ),
    );
    return rows.map(toCommand).sort((a, b) => a.seq - b.seq);
  }

  /** Of these agents, those with something to send: new commands, or overdue acks. */
  async agentsWithWork(agentIds: string[], resendAfterMs: number): Promise<string[]> {
    if (agentIds.length === 0) return [];
    const rows = (await this.dataSource.query(
      `SELECT DISTINCT agent_id FROM edge_commands
       WHERE agent_id = ANY($1)
         AND (status = 'pending'
           OR (status = 'delivered' AND last_sent_at <= now() - make_interval(secs => $2)))`,
      [agentIds, resendAfterMs / 1000],
    )) as { agent_id: string }[];
    return rows.map((r) => r.agent_id);
  }

  /**
   * Records acks, in one statement whatever their number (each a different command; every ack
   * counts one more on its command), and says what each did, decided from the row as it is when
   * locked (rows are locked in id order):
   * - `received`: the first ack: `acked` (or `failed`, with the error), `acked_at` = `now`;
   * - `delivered`: the second ack of a `schedule_message` still `acked` without `delivered_at`
   *   (the Mac sent it, or failed to): `delivered_at` = `completedAt` ?? `now`, error cleared (or
   *   `failed`, with the error). Not when it says `completed` with a `completedAt` more than a
   *   minute before the payload's `send_at`: that is a resent copy being stored again, not the
   *   send (EDGE_PROTOCOL §4.2: compare completed_at with send_at);
   * - null: a repeat: only the count changes.
   * By command id; an ack of an unknown command, or of another agent's, is absent (nothing
   * changed).
   */
  async applyAcks(acks: readonly EdgeAckInput[]): Promise<Map<string, AppliedAck>> {
    const run = (parseSendAt: boolean) =>
      this.dataSource.query(
        `UPDATE edge_commands c SET
           ack_count = c.ack_count + 1,
           status = CASE WHEN d.stage IS NULL THEN c.status
                         WHEN d.ok THEN 'acked' ELSE 'failed' END,
           acked_at = CASE WHEN d.stage = 'received' THEN d.acked_now ELSE c.acked_at END,
           delivered_at = CASE WHEN d.stage = 'delivered' AND d.ok
                               THEN COALESCE(d.completed_at, d.acked_now)
                               ELSE c.delivered_at END,
           error = CASE WHEN d.stage IS NULL THEN c.error ELSE d.error END
         FROM (
           SELECT e.id, a.ok, a.error, a.completed_at, a.acked_now,
             CASE
               WHEN e.ack_count = 0 THEN 'received'
               WHEN e.command_type = 'schedule_message' AND e.status = 'acked'
                 AND e.delivered_at IS NULL
                 AND NOT (a.ok AND a.completed_at IS NOT NULL AND $7::boolean
                   AND jsonb_typeof(e.payload -> 'send_at') = 'string'
                   AND e.payload ->> 'send_at' ~ '${ISO_TIME}'
                   AND a.completed_at
                     < (e.payload ->> 'send_at')::timestamptz - interval '60 seconds')
                 THEN 'delivered'
             END AS stage
           FROM unnest($1::uuid[], $2::text[], $3::boolean[], $4::text[], $5::timestamptz[],
             $6::timestamptz[]) AS a (id, agent_id, ok, error, completed_at, acked_now)
           JOIN edge_commands e ON e.id = a.id AND e.agent_id = a.agent_id
           ORDER BY e.id
           FOR UPDATE OF e
         ) d
         WHERE c.id = d.id
         RETURNING c.*, d.stage AS ack_stage`,
        [
          acks.map((a) => a.commandId),
          acks.map((a) => a.agentId),
          acks.map((a) => a.ok),
          acks.map((a) => a.error),
          acks.map((a) => a.completedAt),
          acks.map((a) => a.now),
          parseSendAt,
        ],
      );
    let result: unknown;
    try {
      result = await run(true);
    } catch (err) {
      // A `send_at` Postgres cannot read as a time (class 22, data exception): like one the app
      // cannot read, it never makes an ack a store ack. (Callers batch one ack when they retry.)
      if (acks.length > 1 || !isDataException(err)) throw err;
      result = await run(false);
    }
    const rows = returned(result) as (RawCommand & { ack_stage: AckStage | null })[];
    return new Map(rows.map((row) => [row.id, { command: toCommand(row), stage: row.ack_stage }]));
  }

  async find(commandId: string): Promise<EdgeCommand | undefined> {
    const [row] = (await this.dataSource.query(`SELECT * FROM edge_commands WHERE id = $1`, [
      commandId,
    ])) as RawCommand[];
    return row && toCommand(row);
  }

  /** The agent's most recent commands, in send order. */
  async listForAgent(
    agentId: string,
    options: { status?: EdgeCommandStatus; limit: number },
  ): Promise<EdgeCommand[]> {
    const rows = (await this.dataSource.query(
      `SELECT * FROM (
         SELECT * FROM edge_commands
         WHERE agent_id = $1 AND ($2::text IS NULL OR status = $2)
         ORDER BY seq DESC LIMIT $3
       ) recent ORDER BY seq`,
      [agentId, options.status ?? null, options.limit],
    )) as RawCommand[];
    return rows.map(toCommand);
  }
}
