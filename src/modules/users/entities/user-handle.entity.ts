import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One handle of a person (E.164 phone, Apple ID email, or an API client's `client:<id>`). A
 * handle belongs to one person; a person may have several, so what is learned through any of
 * them lands on the same person.
 */
@Entity('user_handles')
export class UserHandleEntity {
  @PrimaryColumn({ type: 'text' })
  handle!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** When a code sent to the handle was confirmed (sign-in or linking); null = only seen. */
  @Column({ name: 'verified_at', type: 'timestamptz', nullable: true })
  verifiedAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
