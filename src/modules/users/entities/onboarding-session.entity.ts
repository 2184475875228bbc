import { Column, Entity, PrimaryColumn } from 'typeorm';

export const ONBOARDING_STATES = ['started', 'name_known', 'completed'] as const;
/**
 * - `started`: the person's first message arrived; the persona introduces itself and asks;
 * - `name_known`: their name is known, their time zone not yet;
 * - `completed`: name and time zone are known (it stays completed).
 */
export type OnboardingState = (typeof ONBOARDING_STATES)[number];

/** Getting to know a person: one per person, from their first message on. */
@Entity('onboarding_sessions')
export class OnboardingSessionEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ type: 'text' })
  state!: OnboardingState;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
