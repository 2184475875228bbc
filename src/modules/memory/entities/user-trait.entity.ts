import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A stable trait of a person (how they write, their humour, what they value), one value per
 * trait: a later observation replaces the value only when it is at least as confident.
 */
@Entity('user_traits')
export class UserTraitEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** snake_case, e.g. `communication_style`. */
  @Column({ type: 'text' })
  trait!: string;

  @Column({ type: 'text' })
  value!: string;

  @Column({ type: 'real' })
  confidence!: number;

  /** How it was learned, e.g. `extraction`. */
  @Column({ type: 'text' })
  source!: string;

  @Column({ name: 'source_message_id', type: 'uuid', nullable: true })
  sourceMessageId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
