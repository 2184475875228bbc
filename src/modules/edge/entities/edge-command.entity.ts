import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { EdgeCommandPriority, EdgeCommandType } from '../command-payloads';

/**
 * pending (queued) → delivered (pushed, awaiting its ack; resent until acked) → acked | failed.
 * A `schedule_message` is acked twice: the first ack (stored on the Mac) sets `acked_at`, the
 * second (actually sent) sets `delivered_at`.
 */
export type EdgeCommandStatus = 'pending' | 'delivered' | 'acked' | 'failed';

/** One command for one edge agent, pushed in `seq` order over its WebSocket (EDGE_PROTOCOL §4). */
@Entity('edge_commands')
export class EdgeCommandEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Send order (bigserial; read as a string by pg). */
  @Column({ type: 'bigint', generated: 'increment' })
  seq!: string;

  @Column({ name: 'agent_id', type: 'text' })
  agentId!: string;

  @Column({ name: 'command_type', type: 'text' })
  commandType!: EdgeCommandType;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  @Column({ type: 'text', default: 'normal' })
  priority!: EdgeCommandPriority;

  @Column({ type: 'text', default: 'pending' })
  status!: EdgeCommandStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_sent_at', type: 'timestamptz', nullable: true })
  lastSentAt!: Date | null;

  @Column({ name: 'acked_at', type: 'timestamptz', nullable: true })
  ackedAt!: Date | null;

  /** The second ack of a `schedule_message`: the Mac actually sent it. */
  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt!: Date | null;

  @Column({ name: 'ack_count', type: 'integer', default: 0 })
  ackCount!: number;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'scheduled_message_id', type: 'uuid', nullable: true })
  scheduledMessageId!: string | null;

  /** A message command is never pushed after this (EdgeTimings.messageGraceMs); null = never. */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
