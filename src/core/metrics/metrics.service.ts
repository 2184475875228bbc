import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LlmErrorKind } from '../llm/llm.errors';
import { QueueService } from '../queue/queue.service';

/**
 * The process's Prometheus registry. One per app instance (not prom-client's global), so several
 * apps in one test process never collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  private readonly cacheLookups = new Counter({
    name: 'response_cache_lookups_total',
    help: 'Response cache lookups by result (hit or miss)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly llmFailures = new Counter({
    name: 'llm_failures_total',
    help: 'LLM calls that failed after their retries, by operation and kind (quota needs a human)',
    labelNames: ['operation', 'kind'] as const,
    registers: [this.registry],
  });

  private readonly turnsShed = new Counter({
    name: 'turns_shed_total',
    help: 'Messages refused with 503 because MAX_CONCURRENT_TURNS were in progress',
    registers: [this.registry],
  });

  constructor(queues: QueueService) {
    // Includes nodejs_eventloop_lag_seconds and its percentiles.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    new Gauge({
      name: 'queue_jobs',
      help: 'BullMQ jobs by queue and state, read at scrape time',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await queues.counts().catch(() => undefined);
        if (!counts) return; // Redis down: /health says so; the scrape still succeeds.
        for (const [queue, byState] of Object.entries(counts)) {
          for (const [state, value] of Object.entries(byState)) this.set({ queue, state }, value);
        }
      },
    });
  }

  observeCacheLookup(hit: boolean): void {
    this.cacheLookups.inc({ result: hit ? 'hit' : 'miss' });
  }

  observeLlmFailure(operation: string, kind: LlmErrorKind): void {
    this.llmFailures.inc({ operation, kind });
  }

  observeTurnShed(): void {
    this.turnsShed.inc();
  }

  /** `route` is the route template (`/photos/:id`), never the raw URL, to bound cardinality. */
  observeHttp(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }
}
