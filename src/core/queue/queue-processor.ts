import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job } from 'bullmq';
import { OutageLog } from '../redis/outage-log';

/**
 * What every queue's processor does besides its jobs: a failed attempt is one warning line, and
 * the worker's connection errors are logged once per outage (OutageLog), with its recovery. A
 * subclass that overrides `onFailed` must repeat `@OnWorkerEvent('failed')` on its override:
 * Nest reads the decorator from the method the instance actually has.
 */
export abstract class QueueProcessor extends WorkerHost {
  protected readonly logger: Logger;
  private readonly outage: OutageLog;

  protected constructor(name: string) {
    super();
    this.logger = new Logger(name);
    this.outage = new OutageLog(this.logger, 'worker');
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): void {
    const attempts = job?.opts.attempts ?? 1;
    this.logger.warn(
      `job ${job?.id} failed (attempt ${job?.attemptsMade} of ${attempts}): ${err.message}`,
    );
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.outage.error(err);
  }

  @OnWorkerEvent('ready')
  onReady(): void {
    this.outage.recovered();
  }
}
