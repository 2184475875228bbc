import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/**
 * A person, created the first time one of their handles is seen. `handle` is their primary handle
 * (the first they were known by); every handle of theirs, this one included, is in user_handles,
 * which is what messages, photos and sign-in resolve.
 */
@Entity('users')
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text', unique: true })
  handle!: string;

  @Column({ type: 'text', nullable: true })
  name!: string | null;

  @Column({ name: 'time_zone', type: 'text', nullable: true })
  timeZone!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** The fields of a person the conversation needs. */
export type UserRow = Pick<UserEntity, 'id' | 'handle' | 'name' | 'timeZone'>;
