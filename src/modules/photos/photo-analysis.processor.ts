import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { OutageLog } from '../../core/redis/outage-log';
import { JobName, JobPayloads, QueueName, WORKER_DEFAULTS } from '../../core/queue/queue.constants';
import { AnalysisOutcome, PhotoAnalysisService } from './photo-analysis.service';

/** The photo-analysis queue: dispatches on the job name to PhotoAnalysisService. */
@Processor(QueueName.PhotoAnalysis, WORKER_DEFAULTS)
export class PhotoAnalysisProcessor extends WorkerHost {
  private readonly logger = new Logger(PhotoAnalysisProcessor.name);
  private readonly outage = new OutageLog(this.logger, 'worker');

  constructor(private readonly analysis: PhotoAnalysisService) {
    super();
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
  onFailed(job: Job | undefined, err: Error): void {
    const attempts = job?.opts.attempts ?? 1;
    this.logger.warn(
      `job ${job?.id} failed (attempt ${job?.attemptsMade} of ${attempts}): ${err.message}`,
    );
    // A job that failed without its handler returning (stalled past maxStalledCount) ends here.
    if (job && job.name === JobName.PhotoAnalyze && job.attemptsMade >= attempts) {
      const { photoId } = job.data as JobPayloads[JobName.PhotoAnalyze];
      this.analysis.markFailed(photoId, err.message).catch((e: unknown) => {
        this.logger.warn(`photo ${photoId}: could not record the failure: ${messageOf(e)}`);
      });
    }
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

function isLastAttempt(job: Job, err: unknown): boolean {
  return err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
