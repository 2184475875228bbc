import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The short summary of a person's traits that every reply's prompt carries. */
@Entity('trait_profiles')
export class TraitProfileEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ type: 'text' })
  summary!: string;

  @Column({ name: 'traits_count', type: 'integer' })
  traitsCount!: number;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
