import { AppConfig } from './core/config/app-config';
import { createRootLogger } from './core/logging/logger';
import {
  createWorkerContext,
  exitOnSignals,
  loadConfigOrExit,
  logUnhandled,
  prepareLocalServices,
} from './bootstrap';

/** Workers only: BullMQ processors of WORKER_QUEUES, no HTTP port, never migrates. */
export async function runWorker(loaded: AppConfig): Promise<void> {
  const config: AppConfig = { ...loaded, role: 'worker' };
  const logger = createRootLogger(config);
  logUnhandled(logger);
  const services = await prepareLocalServices(config, logger);
  const app = await createWorkerContext(config, { rootLogger: logger });
  exitOnSignals(app, config, logger, () => services.stop());
  logger.info(
    { context: 'Bootstrap' },
    `worker started for queues: ${config.worker.queues.join(', ')}`,
  );
}

if (require.main === module) {
  runWorker(loadConfigOrExit()).catch((err: unknown) => {
    process.stderr.write(`Start-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
