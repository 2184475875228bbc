import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
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
    createdAt: row.created_at,
  };
}

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

export interface AckChange {
  status: EdgeCommandStatus;
  ackedAt?: Date;
  deliveredAt?: Date;
  error: string | null;
}

/** The only place that queries edge_commands. */
@Injectable()
export class EdgeCommandsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(input: {
    agentId: string;
    commandType: EdgeCommandType;
    payload: Record<string, unknown>;
    priority: EdgeCommandPriority;
    scheduledMessageId: string | null;
  }): Promise<EdgeCommand> {
    const [row] = (await this.dataSource.query(
      `INSERT INTO edge_commands (agent_id, command_type, payload, priority, scheduled_message_id)
       VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [
        input.agentId,
        input.commandType,
        JSON.stringify(input.payload),
        input.priority,
        input.scheduledMessageId,
      ],
    )) as RawCommand[];
    return toCommand(row);
  }

  /**
   * Marks the agent's next commands delivered (attempts + 1, last_sent_at = now) and returns them
   * in send order, for the caller to push. Atomic: two concurrent claims never return one row
   * twice. A command sent `maxAttempts` times is never claimed again.
   */
  async claim(
    agentId: string,
    mode: ClaimMode,
    options: { resendAfterMs: number; maxAttempts: number; limit: number },
  ): Promise<EdgeCommand[]> {
    const rows = returned(
      await this.dataSource.query(
        `UPDATE edge_commands c
         SET status = 'delivered', attempts = c.attempts + 1, last_sent_at = now()
         FROM (
           SELECT id FROM edge_commands
           WHERE agent_id = $1
             AND (status = 'pending'
               OR (status = 'delivered' AND attempts < $2
                 AND ($3 = 'reconnect'
                   OR ($3 = 'due' AND last_sent_at <= now() - make_interval(secs => $4)))))
           ORDER BY seq
           LIMIT $5
           FOR UPDATE SKIP LOCKED
         ) pick
         WHERE c.id = pick.id
         RETURNING c.*`,
        [agentId, options.maxAttempts, mode, options.resendAfterMs / 1000, options.limit],
      ),
    );
    return rows.map(toCommand).sort((a, b) => a.seq - b.seq);
  }

  /** Sent `maxAttempts` times, the last one `resendAfterMs` ago, still no ack: failed. */
  async expireUnacked(
    agentId: string,
    options: { resendAfterMs: number; maxAttempts: number },
  ): Promise<EdgeCommand[]> {
    const rows = returned(
      await this.dataSource.query(
        `UPDATE edge_commands
         SET status = 'failed', error = $3
         WHERE agent_id = $1 AND status = 'delivered' AND attempts >= $2
           AND last_sent_at <= now() - make_interval(secs => $4)
         RETURNING *`,
        [
          agentId,
          options.maxAttempts,
          `not acknowledged after ${options.maxAttempts} sends`,
          options.resendAfterMs / 1000,
        ],
      ),
    );
    return rows.map(toCommand);
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
   * Runs `decide` on the agent's command, locked, and applies the change it returns (every call
   * counts one more ack). Undefined when the command is unknown or belongs to another agent.
   */
  async applyAck(
    agentId: string,
    commandId: string,
    decide: (command: EdgeCommand) => AckChange | null,
  ): Promise<{ before: EdgeCommand; after: EdgeCommand; changed: boolean } | undefined> {
    return this.dataSource.transaction(async (manager: EntityManager) => {
      const [row] = (await manager.query(
        `SELECT * FROM edge_commands WHERE id = $1 AND agent_id = $2 FOR UPDATE`,
        [commandId, agentId],
      )) as RawCommand[];
      if (!row) return undefined;
      const before = toCommand(row);
      const change = decide(before);
      const [updated] = returned(
        await manager.query(
          `UPDATE edge_commands SET ack_count = ack_count + 1,
             status = COALESCE($2, status),
             acked_at = COALESCE($3, acked_at),
             delivered_at = COALESCE($4, delivered_at),
             error = CASE WHEN $5 THEN $6 ELSE error END
           WHERE id = $1 RETURNING *`,
          [
            commandId,
            change?.status ?? null,
            change?.ackedAt ?? null,
            change?.deliveredAt ?? null,
            change !== null,
            change?.error ?? null,
          ],
        ),
      );
      return { before, after: toCommand(updated), changed: change !== null };
    });
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
