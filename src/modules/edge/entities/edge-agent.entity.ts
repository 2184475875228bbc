import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A Mac mini relaying one account's iMessages; its id comes from the agent's own config. */
@Entity('edge_agents')
export class EdgeAgentEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  /** The persona the agent speaks as (its `/edge/message` `persona_id`), when known. */
  @Column({ name: 'persona_id', type: 'text', nullable: true })
  personaId!: string | null;

  /** The agent's own iMessage number (token phone, `persona_phone`, or V0 `user_phone`). */
  @Column({ type: 'text', nullable: true })
  phone!: string | null;

  @Column({ type: 'text', nullable: true })
  version!: string | null;

  /** The API instance that holds (or last held) its WebSocket; null once it disconnected. */
  @Column({ name: 'connected_instance', type: 'text', nullable: true })
  connectedInstance!: string | null;

  @Column({ name: 'connected_at', type: 'timestamptz', nullable: true })
  connectedAt!: Date | null;

  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt!: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
