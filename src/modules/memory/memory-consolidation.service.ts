import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { LlmClient } from '../../core/llm/llm.client';
import { UsageService } from '../usage/usage.service';
import { MEMORY_CONSOLIDATION_SYSTEM, parseConsolidationPlan } from './memory-consolidation.prompt';

/** How many of a person's memories one pass looks at (newest ones). */
const CONSOLIDATION_WINDOW = 150;

@Injectable()
export class MemoryConsolidationService {
  private readonly logger = new Logger(MemoryConsolidationService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly llm: LlmClient,
    private readonly usage: UsageService,
  ) {}

  /**
   * Keeps a person's memory small and current: duplicates are merged into the one kept (which
   * takes the highest confidence and the latest confirmation), and facts a newer one replaced are
   * marked superseded, which takes them out of prompts and search.
   */
  async consolidate(userId: string): Promise<{ merged: number; superseded: number }> {
    const memories: { id: string; type: string; content: string }[] = await this.dataSource.query(
      `SELECT id, type, content FROM (
         SELECT id, type, content, created_at FROM memories
         WHERE user_id = $1 AND superseded_at IS NULL ORDER BY created_at DESC LIMIT $2
       ) recent ORDER BY created_at ASC`,
      [userId, CONSOLIDATION_WINDOW],
    );
    if (memories.length < 2) return { merged: 0, superseded: 0 };
    const { data, result } = await this.llm.extractJson({
      system: MEMORY_CONSOLIDATION_SYSTEM,
      user: memories.map((m, i) => `${i + 1}. (${m.type}) ${m.content}`).join('\n'),
    });
    const plan = parseConsolidationPlan(data, memories.length);
    const id = (n: number) => memories[n - 1].id;

    let merged = 0;
    await this.dataSource.transaction(async (manager) => {
      for (const [keep, ...others] of plan.duplicates) {
        // TypeORM answers a DELETE … RETURNING with [rows, count].
        const [removed]: [{ confidence: number }[], number] = await manager.query(
          `DELETE FROM memories WHERE id = ANY($1) AND user_id = $2 RETURNING confidence`,
          [others.map(id), userId],
        );
        await manager.query(
          `UPDATE memories SET confidence = GREATEST(confidence, $2), last_confirmed_at = now()
           WHERE id = $1`,
          [id(keep), Math.max(0, ...removed.map((r) => r.confidence))],
        );
        merged += removed.length;
      }
      for (const pair of plan.superseded) {
        await manager.query(
          `UPDATE memories SET superseded_by = $2, superseded_at = now()
           WHERE id = $1 AND user_id = $3 AND superseded_at IS NULL`,
          [id(pair.old), id(pair.new), userId],
        );
      }
      await this.usage.record(manager, { userId, roomId: null, purpose: 'memory-consolidation' }, [
        result,
      ]);
    });
    if (merged || plan.superseded.length) {
      this.logger.log(`user ${userId}: merged ${merged}, superseded ${plan.superseded.length}`);
    }
    return { merged, superseded: plan.superseded.length };
  }
}
