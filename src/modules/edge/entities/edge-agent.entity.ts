import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A Mac mini relaying one account's iMessages; its id comes from the agent's own config. */
@Entity('edge_agents')
export class EdgeAgentEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt!: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
