import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { JobsOptions, JobState, Queue } from 'bullmq';
import { OutageLog } from '../redis/outage-log';
import { JOB_QUEUE, JobName, JobPayloads, QueueName } from './queue.constants';

/** How long a producer call (an HTTP request's enqueue, a health probe) may wait on Redis. */
export const PRODUCER_TIMEOUT_MS = 3000;

/** Redis is down or too slow for a producer call; the caller decides what that costs. */
export class QueueUnavailableError extends Error {
  constructor(message: string) {
    super(`Redis unavailable: ${message}`);
    this.name = 'QueueUnavailableError';
  }
}

/** Applied to every job unless a caller overrides (RELIABILITY row 31: 5 attempts, 2 s, 4 s, …). */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const satisfies JobsOptions;

/** Jobs removed concurrently (one Redis script call each). */
const REMOVE_BATCH = 50;

export interface EnqueueOptions {
  /** Stable key of the work (usually a row id): the same key never makes a second job. */
  key: string;
  delayMs?: number;
}

export type QueueCounts = Record<'waiting' | 'active' | 'delayed' | 'failed', number>;

@Injectable()
export class QueueService implements OnModuleInit {
  private readonly logger = new Logger(QueueService.name);
  private readonly queues: Record<QueueName, Queue>;

  constructor(
    @InjectQueue(QueueName.PhotoAnalysis) photoAnalysis: Queue,
    @InjectQueue(QueueName.MemoryExtraction) memoryExtraction: Queue,
    @InjectQueue(QueueName.ScheduledMessages) scheduledMessages: Queue,
  ) {
    this.queues = {
      [QueueName.PhotoAnalysis]: photoAnalysis,
      [QueueName.MemoryExtraction]: memoryExtraction,
      [QueueName.ScheduledMessages]: scheduledMessages,
    };
  }

  onModuleInit(): void {
    for (const queue of Object.values(this.queues)) {
      // Without a listener an 'error' event would crash the process during a Redis outage.
      const outage = new OutageLog(this.logger, `queue ${queue.name}`);
      queue.on('error', outage.error);
      queue.client.then((client) => client.on('ready', outage.recovered)).catch(() => undefined);
    }
  }

  /**
   * Adds a job with the default options and an idempotent id derived from the job name and key:
   * enqueueing the same work twice (a retry, two instances) yields one job.
   */
  async enqueue<J extends JobName>(job: J, payload: JobPayloads[J], options: EnqueueOptions) {
    const queue = this.queue(JOB_QUEUE[job]);
    return this.produce(queue, `enqueue ${job}`, () =>
      queue.add(job, payload, {
        ...DEFAULT_JOB_OPTIONS,
        jobId: jobIdFor(job, options.key),
        delay: options.delayMs && options.delayMs > 0 ? Math.round(options.delayMs) : undefined,
      }),
    );
  }

  /**
   * A delayed job that runs once activity has stopped for `delayMs`: enqueueing it again while
   * it waits pushes it back (a debounce), so a burst of work yields one run at its end.
   */
  async debounce<J extends JobName>(
    job: J,
    payload: JobPayloads[J],
    options: EnqueueOptions & { delayMs: number },
  ) {
    const queue = this.queue(JOB_QUEUE[job]);
    const jobId = jobIdFor(job, options.key);
    return this.produce(queue, `debounce ${job}`, async () => {
      const waiting = await queue.getJob(jobId);
      if (waiting && (await waiting.isDelayed())) {
        await waiting.changeDelay(options.delayMs);
        return waiting;
      }
      return queue.add(job, payload, {
        ...DEFAULT_JOB_OPTIONS,
        jobId,
        delay: options.delayMs,
        // Gone once done, so the next burst can schedule the same id again.
        removeOnComplete: true,
        removeOnFail: true,
      });
    });
  }

  /**
   * Removes the jobs of this name and these keys in whatever state they wait (waiting, delayed,
   * completed, failed). A job running right now cannot be removed: it is counted in `running`,
   * and its handler, which reloads its rows, finds them gone.
   */
  async removeJobs(job: JobName, keys: string[]): Promise<{ removed: number; running: number }> {
    const queue = this.queue(JOB_QUEUE[job]);
    let removed = 0;
    let running = 0;
    for (let i = 0; i < keys.length; i += REMOVE_BATCH) {
      const results = await Promise.all(
        keys.slice(i, i + REMOVE_BATCH).map(async (key) => {
          const id = jobIdFor(job, key);
          // BullMQ answers 1 for a job that was not there too: look first, to count truthfully.
          if (!(await queue.getJobState(id).then((state) => state !== 'unknown'))) return 'none';
          return (await queue.remove(id)) === 1 ? 'removed' : 'running';
        }),
      );
      removed += results.filter((r) => r === 'removed').length;
      running += results.filter((r) => r === 'running').length;
    }
    return { removed, running };
  }

  queueOf(job: JobName): QueueName {
    return JOB_QUEUE[job];
  }

  /** `unknown` when Redis has no such job (never queued, removed, or lost). */
  async jobState(job: JobName, key: string): Promise<JobState | 'unknown'> {
    const queue = this.queue(JOB_QUEUE[job]);
    return this.produce(queue, `state of ${job}`, () => queue.getJobState(jobIdFor(job, key)));
  }

  /** Removes the job of this work, whatever its state (a no-op when there is none). */
  async removeJob(job: JobName, key: string): Promise<void> {
    const queue = this.queue(JOB_QUEUE[job]);
    await this.produce(queue, `remove ${job}`, () => queue.remove(jobIdFor(job, key)));
  }

  queue(name: QueueName): Queue {
    return this.queues[name];
  }

  async counts(): Promise<Record<QueueName, QueueCounts>> {
    const entries = await Promise.all(
      Object.values(this.queues).map(async (queue) => {
        const counts = await this.produce(queue, 'count jobs', () =>
          queue.getJobCounts('waiting', 'active', 'delayed', 'failed'),
        );
        return [queue.name, counts as QueueCounts] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<QueueName, QueueCounts>;
  }

  /**
   * Runs a producer call only while the queue's connection is up, and for PRODUCER_TIMEOUT_MS at
   * most. BullMQ's connections wait for Redis forever (workers need that); a caller serving a
   * request must not: during an outage its enqueue would hold the request until Redis returned.
   */
  private async produce<T>(queue: Queue, what: string, run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new QueueUnavailableError(
              `${what} on ${queue.name}: no answer within ${PRODUCER_TIMEOUT_MS} ms`,
            ),
          ),
        PRODUCER_TIMEOUT_MS,
      );
    });
    const attempt = (async () => {
      const client = await queue.client;
      if (client.status !== 'ready') {
        throw new QueueUnavailableError(`${what} on ${queue.name}: not connected`);
      }
      return run();
    })();
    try {
      return await Promise.race([attempt, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * BullMQ job ids must not contain ':' (its key separator) and must not be all digits (those are
 * its own auto ids).
 */
export function jobIdFor(job: JobName, key: string): string {
  if (!key) throw new Error(`enqueue ${job}: a key is required for an idempotent job id`);
  return `${job}-${key.replace(/:/g, '_')}`;
}
