import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

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
}
