import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const MEMORY_TYPES = [
  'activity',
  'person',
  'place',
  'preference',
  'plan',
  'fact',
  'visual_activity',
  'visual_person',
  'visual_place',
  'visual_preference',
] as const;
export type MemoryType = (typeof MEMORY_TYPES)[number];

/** Something the assistant knows about a person; the same fact twice is confirmed, not duplicated. */
@Entity('memories')
export class MemoryEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'room_id', type: 'uuid', nullable: true })
  roomId!: string | null;

  @Column({ type: 'text' })
  type!: MemoryType;

  @Column({ type: 'text' })
  content!: string;

  @Column({ type: 'real' })
  confidence!: number;

  /** How it was learned: `tool:remember`, `extraction`, `photo`. */
  @Column({ type: 'text' })
  source!: string;

  @Column({ name: 'source_message_id', type: 'uuid', nullable: true })
  sourceMessageId!: string | null;

  @Column({ name: 'source_photo_id', type: 'uuid', nullable: true })
  sourcePhotoId!: string | null;

  @Column({ name: 'dedup_key', type: 'text' })
  dedupKey!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'last_confirmed_at', type: 'timestamptz' })
  lastConfirmedAt!: Date;
}
