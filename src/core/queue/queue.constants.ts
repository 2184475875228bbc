/** Every queue. A worker process consumes the ones named in WORKER_QUEUES (empty = all). */
export enum QueueName {
  PhotoAnalysis = 'photo-analysis',
  MemoryExtraction = 'memory-extraction',
  ScheduledMessages = 'scheduled-messages',
}

/** Every job, with the queue it runs on (SPEC §8). */
export enum JobName {
  PhotoAnalyze = 'photo.analyze',
  MemoryExtract = 'memory.extract',
  MemoryConsolidate = 'memory.consolidate',
  ScheduledMessageSend = 'scheduled-message.send',
  ScheduledMessageSweep = 'scheduled-message.sweep',
}

export const JOB_QUEUE: Record<JobName, QueueName> = {
  [JobName.PhotoAnalyze]: QueueName.PhotoAnalysis,
  [JobName.MemoryExtract]: QueueName.MemoryExtraction,
  [JobName.MemoryConsolidate]: QueueName.MemoryExtraction,
  [JobName.ScheduledMessageSend]: QueueName.ScheduledMessages,
  [JobName.ScheduledMessageSweep]: QueueName.ScheduledMessages,
};

/** Payloads carry ids only; handlers reload state from Postgres, the source of truth. */
export interface JobPayloads {
  [JobName.PhotoAnalyze]: { photoId: string };
  [JobName.MemoryExtract]: { messageId: string };
  [JobName.MemoryConsolidate]: { userId: string };
  [JobName.ScheduledMessageSend]: { scheduledMessageId: string };
  [JobName.ScheduledMessageSweep]: Record<string, never>;
}

/**
 * Worker settings every processor uses. A worker that dies mid-job loses its lock after 15 s
 * (a live worker renews it every 7.5 s), and the next stall check (every 15 s) gives the job to
 * another worker: re-run within ~30 s (RELIABILITY row 29). A job that stalls twice fails
 * instead of looping. Concurrency is not here: it comes from the configuration at start-up
 * (WorkerConcurrency), so each worker pool can be sized for its queue.
 */
export const WORKER_DEFAULTS = {
  lockDuration: 15_000,
  stalledInterval: 15_000,
  maxStalledCount: 1,
} as const;

/**
 * Jobs one worker process runs at once per queue, unless WORKER_CONCURRENCY overrides it. These
 * jobs wait on the LLM, not on the CPU: a memory extraction holds a database connection only for
 * its two reads and its final write, so one process keeps many calls in flight (at 4, one worker
 * managed ~13 extractions/s against a 300 ms model, while the API produced 200 messages/s).
 * Photo analysis holds each photo in memory as a data URL (up to ~14 MB), which is what caps it.
 */
export const QUEUE_CONCURRENCY: Record<QueueName, number> = {
  [QueueName.PhotoAnalysis]: 4,
  [QueueName.MemoryExtraction]: 64,
  [QueueName.ScheduledMessages]: 8,
};
