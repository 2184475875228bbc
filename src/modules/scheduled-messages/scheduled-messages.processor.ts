import { Processor } from '@nestjs/bullmq';
import { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { QueueProcessor } from '../../core/queue/queue-processor';
import { JobName, JobPayloads, QueueName, WORKER_DEFAULTS } from '../../core/queue/queue.constants';
import { QueueService } from '../../core/queue/queue.service';
import { ScheduledMessageDeliveryService } from './scheduled-message-delivery.service';

const SWEEP_EVERY_MS = 60_000;
const SWEEP_SCHEDULER_ID = 'scheduled-message-sweep';
/**
 * How often each worker checks that the sweep is still scheduled. The schedule lives in Redis,
 * and a Redis that lost its data (flushed, replaced, restored from an old snapshot) lost it too:
 * without the check no sweep would run again until a worker restarted, and the delayed jobs the
 * sweep exists to restore would stay lost.
 */
const SWEEP_CHECK_EVERY_MS = 10_000;

@Processor(QueueName.ScheduledMessages, WORKER_DEFAULTS)
export class ScheduledMessagesProcessor
  extends QueueProcessor
  implements OnModuleInit, OnModuleDestroy
{
  private sweepCheck?: NodeJS.Timeout;
  private checking = false;

  constructor(
    private readonly delivery: ScheduledMessageDeliveryService,
    private readonly queues: QueueService,
  ) {
    super(ScheduledMessagesProcessor.name);
  }

  /** One sweep schedule for the whole deployment (upserted by every worker: same id). */
  async onModuleInit(): Promise<void> {
    await this.scheduleSweep();
    this.sweepCheck = setInterval(() => void this.restoreSweepIfLost(), SWEEP_CHECK_EVERY_MS);
    this.sweepCheck.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweepCheck);
  }

  private async scheduleSweep(): Promise<void> {
    await this.queues
      .queue(QueueName.ScheduledMessages)
      .upsertJobScheduler(
        SWEEP_SCHEDULER_ID,
        { every: SWEEP_EVERY_MS },
        { name: JobName.ScheduledMessageSweep, data: {} },
      );
  }

  /** A new schedule runs its first sweep at once, which re-enqueues the due messages' jobs. */
  private async restoreSweepIfLost(): Promise<void> {
    // During an outage a check waits for Redis; the next ones must not pile up behind it.
    if (this.checking) return;
    this.checking = true;
    try {
      const queue = this.queues.queue(QueueName.ScheduledMessages);
      if (await queue.getJobScheduler(SWEEP_SCHEDULER_ID)) return;
      await this.scheduleSweep();
      this.logger.warn('the scheduled-message sweep was missing from Redis (data lost); restored');
    } catch (err) {
      this.logger.warn(`sweep schedule not checked: ${(err as Error).message}`);
    } finally {
      this.checking = false;
    }
  }

  async process(job: Job, token?: string): Promise<unknown> {
    switch (job.name) {
      case JobName.ScheduledMessageSend: {
        const { scheduledMessageId } = job.data as JobPayloads[JobName.ScheduledMessageSend];
        const result = await this.delivery.deliver(scheduledMessageId);
        if (result.outcome === 'not-yet') {
          await job.moveToDelayed(result.sendAt.getTime(), token);
          throw new DelayedError();
        }
        return result.outcome;
      }
      case JobName.ScheduledMessageSweep:
        return this.delivery.sweep();
      default:
        throw new Error(`no handler for job ${job.name} on ${QueueName.ScheduledMessages}`);
    }
  }
}
