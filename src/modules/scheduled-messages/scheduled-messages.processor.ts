import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnModuleInit } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { JobName, JobPayloads, QueueName, WORKER_DEFAULTS } from '../../core/queue/queue.constants';
import { QueueService } from '../../core/queue/queue.service';
import { ScheduledMessageDeliveryService } from './scheduled-message-delivery.service';

const SWEEP_EVERY_MS = 60_000;

@Processor(QueueName.ScheduledMessages, WORKER_DEFAULTS)
export class ScheduledMessagesProcessor extends WorkerHost implements OnModuleInit {
  private readonly logger = new Logger(ScheduledMessagesProcessor.name);

  constructor(
    private readonly delivery: ScheduledMessageDeliveryService,
    private readonly queues: QueueService,
  ) {
    super();
  }

  /** One sweep schedule for the whole deployment (upserted by every worker: same id). */
  async onModuleInit(): Promise<void> {
    await this.queues
      .queue(QueueName.ScheduledMessages)
      .upsertJobScheduler(
        'scheduled-message-sweep',
        { every: SWEEP_EVERY_MS },
        { name: JobName.ScheduledMessageSweep, data: {} },
      );
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

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): void {
    this.logger.warn(`job ${job?.id} failed (attempt ${job?.attemptsMade}): ${err.message}`);
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.logger.warn(`worker error: ${err.message}`);
  }
}
