import { Processor } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { QueueProcessor } from '../../core/queue/queue-processor';
import { JobName, JobPayloads, QueueName, WORKER_DEFAULTS } from '../../core/queue/queue.constants';
import { MemoryConsolidationService } from './memory-consolidation.service';
import { MemoryExtractionService } from './memory-extraction.service';

@Processor(QueueName.MemoryExtraction, WORKER_DEFAULTS)
export class MemoryExtractionProcessor extends QueueProcessor {
  constructor(
    private readonly extraction: MemoryExtractionService,
    private readonly consolidation: MemoryConsolidationService,
  ) {
    super(MemoryExtractionProcessor.name);
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
}
