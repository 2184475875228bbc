import { WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { QUEUE_CONCURRENCY, QueueName } from './queue.constants';

/** Jobs at once for a queue in this process: WORKER_CONCURRENCY, else the queue's default. */
export function concurrencyFor(config: AppConfig, queue: string): number {
  return config.worker.concurrency ?? QUEUE_CONCURRENCY[queue as QueueName] ?? 1;
}

/**
 * Sizes every BullMQ worker of this process once the processors exist. `@Processor()` options are
 * fixed when the class is declared, before any configuration is read; BullMQ reads a worker's
 * concurrency on every fetch, so setting it here takes effect at once. No workers (an API
 * process): nothing to do.
 */
@Injectable()
export class WorkerConcurrency implements OnApplicationBootstrap {
  private readonly logger = new Logger('Workers');

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const host: unknown = wrapper.instance;
      if (!(host instanceof WorkerHost)) continue;
      const worker = host.worker;
      worker.concurrency = concurrencyFor(this.config, worker.name);
      this.logger.log(`${worker.name}: up to ${worker.concurrency} jobs at once`);
    }
  }
}
