import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ExtractedTrait } from './memory-extraction.prompt';
import { TRAIT_PROFILE_MAX_TRAITS, traitProfileSummary } from './trait-profile';

export interface TraitRow {
  trait: string;
  value: string;
  confidence: number;
  source: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface TraitProfileRow {
  summary: string;
  traitsCount: number;
  updatedAt: Date;
}

/**
 * A person's stable traits (user_traits) and their summary (trait_profiles). One value per trait:
 * the same value seen again raises its confidence; a different value replaces it only when it is
 * at least as confident, so one odd message does not overwrite a trait seen many times.
 */
@Injectable()
export class TraitsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Records what one message showed; answers whether anything changed. */
  async observe(
    manager: EntityManager,
    userId: string,
    traits: ExtractedTrait[],
    source: { source: string; messageId: string | null },
  ): Promise<boolean> {
    let changed = false;
    for (const t of traits) {
      const rows = (await manager.query(
        `INSERT INTO user_traits (user_id, trait, value, confidence, source, source_message_id)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, trait) DO UPDATE
           SET value = EXCLUDED.value,
               confidence = CASE WHEN lower(user_traits.value) = lower(EXCLUDED.value)
                                 THEN GREATEST(user_traits.confidence, EXCLUDED.confidence)
                                 ELSE EXCLUDED.confidence END,
               source = EXCLUDED.source, source_message_id = EXCLUDED.source_message_id,
               updated_at = now()
           WHERE lower(user_traits.value) = lower(EXCLUDED.value)
              OR EXCLUDED.confidence >= user_traits.confidence
         RETURNING 1`,
        [userId, t.trait, t.value, t.confidence, source.source, source.messageId],
      )) as unknown[];
      if (rows.length) changed = true;
    }
    return changed;
  }

  /** Rewrites the person's trait profile from their most confident traits (gone when none). */
  async refreshProfile(manager: EntityManager, userId: string): Promise<string | undefined> {
    const traits = (await manager.query(
      `SELECT trait, value, count(*) OVER ()::int AS total FROM user_traits WHERE user_id = $1
        ORDER BY confidence DESC, updated_at DESC, trait LIMIT $2`,
      [userId, TRAIT_PROFILE_MAX_TRAITS],
    )) as { trait: string; value: string; total: number }[];
    const summary = traitProfileSummary(traits);
    if (!summary) {
      await manager.query(`DELETE FROM trait_profiles WHERE user_id = $1`, [userId]);
      return undefined;
    }
    await manager.query(
      `INSERT INTO trait_profiles (user_id, summary, traits_count) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE
         SET summary = EXCLUDED.summary, traits_count = EXCLUDED.traits_count, updated_at = now()`,
      [userId, summary, traits[0].total],
    );
    return summary;
  }

  async traits(userId: string, manager?: EntityManager): Promise<TraitRow[]> {
    return (await (manager ?? this.dataSource.manager).query(
      `SELECT trait, value, confidence, source, created_at AS "createdAt", updated_at AS "updatedAt"
         FROM user_traits WHERE user_id = $1 ORDER BY confidence DESC, trait`,
      [userId],
    )) as TraitRow[];
  }

  async profile(userId: string, manager?: EntityManager): Promise<TraitProfileRow | undefined> {
    const rows = (await (manager ?? this.dataSource.manager).query(
      `SELECT summary, traits_count AS "traitsCount", updated_at AS "updatedAt"
         FROM trait_profiles WHERE user_id = $1`,
      [userId],
    )) as TraitProfileRow[];
    return rows[0];
  }
}
