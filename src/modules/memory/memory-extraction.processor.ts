import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job } from 'bullmq';
import { OutageLog } from '../../core/redis/outage-log';
import { JobName, JobPayloads, QueueName, WORKER_DEFAULTS } from '../../core/queue/queue.constants';
import { MemoryConsolidationService } from './memory-consolidation.service';
import { MemoryExtractionService } from './memory-extraction.service';

@Processor(QueueName.MemoryExtraction, WORKER_DEFAULTS)
export class MemoryExtractionProcessor extends WorkerHost {
  private readonly logger = new Logger(MemoryExtractionProcessor.name);
  private readonly outage = new OutageLog(this.logger, 'worker');

  constructor(
    private readonly extraction: MemoryExtractionService,
    private readonly consolidation: MemoryConsolidationService,
  ) {
    super();
  }

  async process(job: Job): Promise<unknown> {
    switch (job.name) {
      case JobName.MemoryExtract:
        return this.extraction.extract((job.data as JobPayloads[JobName.MemoryExtract]).messageId);
      case JobName.MemoryConsolidate:
        return this.consolidation.consolidate(
          (job.data as JobPayloads[JobName.MemoryConsolidate]).userId,
        );
      default:
        throw new Error(`no handler for job ${job.name} on ${QueueName.MemoryExtraction}`);
    }
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): void {
    this.logger.warn(`job ${job?.id} failed (attempt ${job?.attemptsMade}): ${err.message}`);
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
