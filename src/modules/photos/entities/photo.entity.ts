import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ImageMime } from '../image-type';

export const PHOTO_STATUSES = ['stored', 'processing', 'analyzed', 'failed'] as const;
/**
 * - `stored`: kept, not analysed (a group photo whose caption named no persona);
 * - `processing`: an analysis job is queued or running;
 * - `analyzed`: `analysis` is set and its memories are stored;
 * - `failed`: the last attempt failed; `error` says why.
 */
export type PhotoStatus = (typeof PHOTO_STATUSES)[number];

/** What the vision model saw, as stored on the photo. */
export interface PhotoAnalysis {
  summary: string;
  activities: string[];
  people: string[];
  places: string[];
  preferences: string[];
}

/** Context the edge sent with the upload, kept for later use (never interpreted as auth). */
export interface PhotoMetadata {
  filename?: string;
  declared_mime?: string;
  participants?: string[];
  context?: Record<string, unknown>;
}

/** A photo someone sent to a chat. The bytes live on disk by content hash (`storageKey`). */
@Entity('photos')
export class PhotoEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The sender. */
  @Column({ name: 'owner_user_id', type: 'uuid' })
  ownerUserId!: string;

  @Column({ name: 'room_id', type: 'uuid', nullable: true })
  roomId!: string | null;

  /** Prefixed (`imessage:…`), like rooms.chat_guid. */
  @Column({ name: 'chat_guid', type: 'text' })
  chatGuid!: string;

  @Column({ name: 'edge_agent_id', type: 'text', nullable: true })
  edgeAgentId!: string | null;

  @Column({ name: 'attachment_guid', type: 'text', nullable: true })
  attachmentGuid!: string | null;

  /** `<sha[0..2]>/<sha>` under PHOTO_STORAGE_DIR; shared by every row with the same bytes. */
  @Column({ name: 'storage_key', type: 'text' })
  storageKey!: string;

  /** Detected from the bytes, never taken from the client. */
  @Column({ type: 'text' })
  mime!: ImageMime;

  @Column({ type: 'integer' })
  bytes!: number;

  @Column({ type: 'text' })
  sha256!: string;

  @Column({ type: 'text', nullable: true })
  caption!: string | null;

  @Column({ name: 'is_group', type: 'boolean' })
  isGroup!: boolean;

  @Column({ type: 'text' })
  status!: PhotoStatus;

  @Column({ type: 'jsonb', nullable: true })
  analysis!: PhotoAnalysis | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ type: 'jsonb' })
  metadata!: PhotoMetadata;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'analyzed_at', type: 'timestamptz', nullable: true })
  analyzedAt!: Date | null;
}
