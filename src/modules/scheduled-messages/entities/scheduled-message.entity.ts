import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export type ScheduledMessageStatus =
  'scheduled' | 'sent' | 'delivered' | 'cancelled' | 'missed' | 'failed';

/** Postgres is the source of truth; the delayed BullMQ job is keyed by this row's id. */
@Entity('scheduled_messages')
export class ScheduledMessageEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'room_id', type: 'uuid' })
  roomId!: string;

  @Column({ name: 'assistant_instance_id', type: 'uuid', nullable: true })
  assistantInstanceId!: string | null;

  @Column({ name: 'requested_by_user_id', type: 'uuid', nullable: true })
  requestedByUserId!: string | null;

  @Column({ name: 'source_message_id', type: 'uuid', nullable: true })
  sourceMessageId!: string | null;

  @Column({ type: 'text' })
  text!: string;

  /** Stored in UTC. */
  @Column({ name: 'send_at', type: 'timestamptz' })
  sendAt!: Date;

  @Column({ type: 'text' })
  status!: ScheduledMessageStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
