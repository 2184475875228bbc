import { OnWorkerEvent, Processor } from '@nestjs/bullmq';
import { Job, UnrecoverableError } from 'bullmq';
import { QueueProcessor } from '../../core/queue/queue-processor';
import { JobName, JobPayloads, QueueName, WORKER_DEFAULTS } from '../../core/queue/queue.constants';
import { AnalysisOutcome, PhotoAnalysisService } from './photo-analysis.service';

/** The photo-analysis queue: dispatches on the job name to PhotoAnalysisService. */
@Processor(QueueName.PhotoAnalysis, WORKER_DEFAULTS)
export class PhotoAnalysisProcessor extends QueueProcessor {
  constructor(private readonly analysis: PhotoAnalysisService) {
    super(PhotoAnalysisProcessor.name);
  }

  async process(job: Job): Promise<AnalysisOutcome> {
    switch (job.name) {
      case JobName.PhotoAnalyze: {
        const { photoId } = job.data as JobPayloads[JobName.PhotoAnalyze];
        try {
          return await this.analysis.analyze(photoId);
        } catch (err) {
          // The last attempt's failure is the photo's (retries keep it `processing`).
          if (isLastAttempt(job, err)) await this.analysis.markFailed(photoId, messageOf(err));
          throw err;
        }
      }
      default:
        throw new UnrecoverableError(
          `no handler for job ${job.name} on ${QueueName.PhotoAnalysis}`,
        );
    }
  }

  @OnWorkerEvent('failed')
  override onFailed(job: Job | undefined, err: Error): void {
    super.onFailed(job, err);
    const attempts = job?.opts.attempts ?? 1;
    // A job that failed without its handler returning (stalled past maxStalledCount) ends here.
    if (job && job.name === JobName.PhotoAnalyze && job.attemptsMade >= attempts) {
      const { photoId } = job.data as JobPayloads[JobName.PhotoAnalyze];
      this.analysis.markFailed(photoId, err.message).catch((e: unknown) => {
        this.logger.warn(`photo ${photoId}: could not record the failure: ${messageOf(e)}`);
      });
    }
  }
}

function isLastAttempt(job: Job, err: unknown): boolean {
  return err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
