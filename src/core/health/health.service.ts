import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { LlmClient } from '../llm/llm.client';
import { QueueService } from '../queue/queue.service';

export type CheckResult = { status: 'up' | 'down' | 'offline'; [detail: string]: unknown };

export interface HealthReport {
  status: 'ok' | 'error';
  checks: { database: CheckResult; redis: CheckResult; queues: CheckResult; llm: CheckResult };
}

/** A health probe must answer even when a dependency hangs. */
const CHECK_TIMEOUT_MS = 2000;

@Injectable()
export class HealthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly redis: Redis,
    private readonly queues: QueueService,
    private readonly llm: LlmClient,
  ) {}

  async check(): Promise<HealthReport> {
    const [database, redis, queues] = await Promise.all([
      probe(async () => {
        await this.dataSource.query('SELECT 1');
        return {};
      }),
      probe(async () => {
        await this.redis.ping();
        return {};
      }),
      probe(async () => ({ counts: await this.queues.counts() })),
    ]);
    const llm = this.llm.status();
    const checks = {
      database,
      redis,
      queues,
      llm: { status: llm.mode === 'offline' ? ('offline' as const) : ('up' as const), ...llm },
    };
    // Postgres and Redis are hard dependencies; the offline responder keeps the LLM soft.
    const ok = database.status === 'up' && redis.status === 'up';
    return { status: ok ? 'ok' : 'error', checks };
  }
}

async function probe(run: () => Promise<Record<string, unknown>>): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const details = await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { status: 'up', latencyMs: Math.round(performance.now() - started), ...details };
  } catch (err) {
    return { status: 'down', error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}
