import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface EdgeAgentRow {
  id: string;
  personaId: string | null;
  phone: string | null;
  version: string | null;
  connectedInstance: string | null;
  connectedAt: Date | null;
  lastSeenAt: Date;
  createdAt: Date;
}

export interface EdgeAgentSummary extends EdgeAgentRow {
  /** Queued, never sent. */
  pendingCommands: number;
  /** Sent, not acknowledged yet (resent until they are). */
  unackedCommands: number;
}

interface RawAgent {
  id: string;
  persona_id: string | null;
  phone: string | null;
  version: string | null;
  connected_instance: string | null;
  connected_at: Date | null;
  last_seen_at: Date;
  created_at: Date;
  pending?: string;
  unacked?: string;
}

function toAgent(row: RawAgent): EdgeAgentRow {
  return {
    id: row.id,
    personaId: row.persona_id,
    phone: row.phone,
    version: row.version,
    connectedInstance: row.connected_instance,
    connectedAt: row.connected_at,
    lastSeenAt: row.last_seen_at,
    createdAt: row.created_at,
  };
}

/** The only place that queries edge_agents. */
@Injectable()
export class EdgeAgentsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Records that the agent was seen now (created on first sight). */
  async touch(agentId: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO edge_agents (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET last_seen_at = now()`,
      [agentId],
    );
  }

  /**
   * Records what the agent told about itself (absent values keep what was stored) and marks it
   * seen. For `/edge/register`, and for `/edge/message` (`persona_id`, `persona_phone`).
   */
  async recordIdentity(
    agentId: string,
    identity: { personaId?: string | null; phone?: string | null; version?: string | null },
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO edge_agents (id, persona_id, phone, version) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET
         persona_id = COALESCE(EXCLUDED.persona_id, edge_agents.persona_id),
         phone = COALESCE(EXCLUDED.phone, edge_agents.phone),
         version = COALESCE(EXCLUDED.version, edge_agents.version),
         last_seen_at = now()`,
      [agentId, identity.personaId ?? null, identity.phone ?? null, identity.version ?? null],
    );
  }

  /** The agent's socket opened on `instance` at `at`. */
  async recordConnection(
    agentId: string,
    instance: string,
    at: Date,
    phone: string | undefined,
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO edge_agents (id, phone, connected_instance, connected_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET
         phone = COALESCE(EXCLUDED.phone, edge_agents.phone),
         connected_instance = EXCLUDED.connected_instance,
         connected_at = EXCLUDED.connected_at,
         last_seen_at = now()`,
      [agentId, phone ?? null, instance, at],
    );
  }

  /** That socket closed; a newer connection (another instance, or later) is left as it is. */
  async clearConnection(agentId: string, instance: string, at: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE edge_agents SET connected_instance = NULL, last_seen_at = now()
       WHERE id = $1 AND connected_instance = $2 AND connected_at = $3`,
      [agentId, instance, at],
    );
  }

  async find(agentId: string): Promise<EdgeAgentRow | undefined> {
    const rows = (await this.dataSource.query(`SELECT * FROM edge_agents WHERE id = $1`, [
      agentId,
    ])) as RawAgent[];
    return rows[0] && toAgent(rows[0]);
  }

  /** Every agent with the size of its queue, by id. */
  async listWithQueues(): Promise<EdgeAgentSummary[]> {
    const rows = (await this.dataSource.query(
      `SELECT a.*,
              count(c.id) FILTER (WHERE c.status = 'pending') AS pending,
              count(c.id) FILTER (WHERE c.status = 'delivered') AS unacked
       FROM edge_agents a
       LEFT JOIN edge_commands c ON c.agent_id = a.id AND c.status IN ('pending', 'delivered')
       GROUP BY a.id
       ORDER BY a.id`,
    )) as RawAgent[];
    return rows.map((row) => ({
      ...toAgent(row),
      pendingCommands: Number(row.pending ?? 0),
      unackedCommands: Number(row.unacked ?? 0),
    }));
  }
}
