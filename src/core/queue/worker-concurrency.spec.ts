import { WorkerHost } from '@nestjs/bullmq';
import { DiscoveryService } from '@nestjs/core';
import { loadConfig } from '../config/app-config';
import { QueueName } from './queue.constants';
import { concurrencyFor, WorkerConcurrency } from './worker-concurrency';

const base = { NODE_ENV: 'test', JWT_SECRET: 'j'.repeat(40) };

class FakeHost extends WorkerHost {
  constructor(name: string) {
    super();
    (this as unknown as { _worker: object })._worker = { name, concurrency: 1 };
  }
  async process(): Promise<void> {}
}

function discovering(hosts: object[]): DiscoveryService {
  return {
    getProviders: () => hosts.map((instance) => ({ instance })),
  } as unknown as DiscoveryService;
}

describe('worker concurrency', () => {
  it('sizes each queue by its own default, or all of them by WORKER_CONCURRENCY', () => {
    const defaults = loadConfig(base);
    expect(concurrencyFor(defaults, QueueName.MemoryExtraction)).toBe(64);
    expect(concurrencyFor(defaults, QueueName.PhotoAnalysis)).toBe(4);
    expect(concurrencyFor(defaults, QueueName.ScheduledMessages)).toBe(8);

    const pinned = loadConfig({ ...base, WORKER_CONCURRENCY: '12' });
    expect(concurrencyFor(pinned, QueueName.MemoryExtraction)).toBe(12);
    expect(concurrencyFor(pinned, QueueName.PhotoAnalysis)).toBe(12);
  });

  it('refuses a WORKER_CONCURRENCY that is not an integer from 1 to 1000', () => {
    for (const bad of ['0', '1001', '2.5', 'many']) {
      expect(() => loadConfig({ ...base, WORKER_CONCURRENCY: bad })).toThrow(
        'WORKER_CONCURRENCY must be an integer between 1 and 1000',
      );
    }
  });

  it('applies the figure to every worker of the process at start-up, and ignores other providers', () => {
    const extraction = new FakeHost(QueueName.MemoryExtraction);
    const photos = new FakeHost(QueueName.PhotoAnalysis);
    const sizing = new WorkerConcurrency(
      discovering([extraction, { not: 'a worker' }, photos]),
      loadConfig({ ...base, WORKER_QUEUES: 'memory-extraction,photo-analysis' }),
    );
    sizing.onApplicationBootstrap();
    expect(extraction.worker.concurrency).toBe(64);
    expect(photos.worker.concurrency).toBe(4);
  });
});
