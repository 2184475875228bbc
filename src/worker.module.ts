import { DynamicModule, Logger, Module, Type } from '@nestjs/common';
import { Logger as PinoLogger } from 'pino';
import { AppConfig } from './core/config/app-config';
import { CoreModule } from './core/core.module';
import { QueueName } from './core/queue/queue.constants';
import { MemoryWorkerModule } from './modules/memory/memory-worker.module';
import { ScheduledMessagesWorkerModule } from './modules/scheduled-messages/scheduled-messages-worker.module';
import { PhotosWorkerModule } from './modules/photos/photos-worker.module';

/**
 * The processors of each queue, as the `<feature>-worker` modules that hold them. A queue
 * listed in WORKER_QUEUES but absent here has nothing to run yet and is reported at start-up.
 */
const QUEUE_WORKER_MODULES: Partial<Record<QueueName, Type>> = {
  [QueueName.MemoryExtraction]: MemoryWorkerModule,
  [QueueName.ScheduledMessages]: ScheduledMessagesWorkerModule,
  [QueueName.PhotoAnalysis]: PhotosWorkerModule,
};

/** The worker modules of the queues this process consumes (WORKER_QUEUES; empty = all). */
export function workerModulesFor(config: AppConfig): Type[] {
  const logger = new Logger('Workers');
  const modules: Type[] = [];
  for (const queue of config.worker.queues) {
    const module = QUEUE_WORKER_MODULES[queue];
    if (module) modules.push(module);
    else logger.warn(`queue ${queue} has no processor in this build; its jobs wait`);
  }
  return modules;
}

/** Worker root: core + the worker modules of the queues this process works. No HTTP. */
@Module({})
export class WorkerModule {
  static register(config: AppConfig, rootLogger: PinoLogger): DynamicModule {
    return {
      module: WorkerModule,
      imports: [CoreModule.forRoot(config, rootLogger), ...workerModulesFor(config)],
    };
  }
}
