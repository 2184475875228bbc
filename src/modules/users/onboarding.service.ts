import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ONBOARDING_STATES, OnboardingState } from './entities/onboarding-session.entity';

/** What onboarding still has to learn about a person. */
export type OnboardingGap = 'name' | 'time_zone';

export interface OnboardingView {
  /** `not_started`: the person has not sent a message yet. */
  state: OnboardingState | 'not_started';
  startedAt: Date | null;
  completedAt: Date | null;
  missing: OnboardingGap[];
}

/** The state that what is known of a person (the `users` row aliased `u`) puts them in. */
export function onboardingStateSql(u: string): string {
  return `CASE WHEN ${u}.name IS NOT NULL AND ${u}.time_zone IS NOT NULL THEN 'completed'
               WHEN ${u}.name IS NOT NULL THEN 'name_known' ELSE 'started' END`;
}

/** What onboarding asks for, given what the person's row holds. */
export function onboardingGaps(person: {
  name: string | null;
  timeZone: string | null;
}): OnboardingGap[] {
  return [
    ...(person.name ? [] : (['name'] as const)),
    ...(person.timeZone ? [] : (['time_zone'] as const)),
  ];
}

/**
 * Onboarding sessions: started by a person's first message (in the statement that stores it,
 * RoomsRepository.resolveTurn), moved forward here whenever their name or time zone is learned
 * (the extraction job, their profile, a merge). A session only moves forward: a name removed
 * later does not restart it.
 */
@Injectable()
export class OnboardingService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Moves the person's session to what is now known of them; answers the new state if it moved. */
  async advance(userId: string, manager?: EntityManager): Promise<OnboardingState | undefined> {
    const next = onboardingStateSql('u');
    const [rows] = (await (manager ?? this.dataSource.manager).query(
      `UPDATE onboarding_sessions o
          SET state = ${next}, updated_at = now(),
              completed_at = CASE WHEN ${next} = 'completed' THEN now() END
         FROM users u
        WHERE u.id = o.user_id AND o.user_id = $1
          AND array_position($2::text[], ${next}) > array_position($2::text[], o.state)
        RETURNING o.state`,
      [userId, ONBOARDING_STATES],
    )) as [{ state: OnboardingState }[], number];
    return rows[0]?.state;
  }

  async of(userId: string): Promise<OnboardingView> {
    const [row] = (await this.dataSource.query(
      `SELECT o.state, o.started_at AS "startedAt", o.completed_at AS "completedAt",
              u.name, u.time_zone AS "timeZone"
         FROM users u LEFT JOIN onboarding_sessions o ON o.user_id = u.id
        WHERE u.id = $1`,
      [userId],
    )) as {
      state: OnboardingState | null;
      startedAt: Date | null;
      completedAt: Date | null;
      name: string | null;
      timeZone: string | null;
    }[];
    if (!row) return { state: 'not_started', startedAt: null, completedAt: null, missing: [] };
    return {
      state: row.state ?? 'not_started',
      startedAt: row.startedAt,
      completedAt: row.completedAt,
      missing: row.state === 'completed' ? [] : onboardingGaps(row),
    };
  }
}
