import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type MessageDirection = 'inbound' | 'outbound';
/** processing → answered | ignored for inbound turns; outbound turns are `sent`. */
export type MessageStatus = 'processing' | 'answered' | 'ignored' | 'sent';

/** One turn of a room. `search_vector` (generated, GIN-indexed) serves full-text search. */
@Entity('messages')
export class MessageEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'room_id', type: 'uuid' })
  roomId!: string;

  @Column({ name: 'assistant_instance_id', type: 'uuid', nullable: true })
  assistantInstanceId!: string | null;

  @Column({ type: 'text' })
  direction!: MessageDirection;

  @Column({ name: 'sender_user_id', type: 'uuid', nullable: true })
  senderUserId!: string | null;

  @Column({ name: 'sender_handle', type: 'text', nullable: true })
  senderHandle!: string | null;

  @Column({ type: 'text' })
  text!: string;

  @Column({ name: 'message_guid', type: 'text', nullable: true })
  messageGuid!: string | null;

  /** The retry identity of an inbound message, unique per room. */
  @Column({ name: 'dedup_key', type: 'text', nullable: true })
  dedupKey!: string | null;

  @Column({ type: 'text' })
  status!: MessageStatus;

  @Column({ name: 'reply_to_id', type: 'uuid', nullable: true })
  replyToId!: string | null;

  /** For inbound turns: the response returned, replayed to retries. */
  @Column({ type: 'jsonb', nullable: true })
  response!: Record<string, unknown> | null;

  @Column({ type: 'jsonb' })
  metadata!: Record<string, unknown>;

  @Column({ name: 'sent_at', type: 'timestamptz' })
  sentAt!: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
