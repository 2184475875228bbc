import { createRootLogger } from './core/logging/logger';
import { createApiApp } from './api-app';
import { exitOnSignals, loadConfigOrExit, logUnhandled, prepareLocalServices } from './bootstrap';
import { runWorker } from './worker';

/** API entrypoint: HTTP + WebSocket, and the workers too when APP_ROLE=all. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  if (config.role === 'worker') return runWorker(config);
  const logger = createRootLogger(config);
  logUnhandled(logger);
  const services = await prepareLocalServices(config, logger);
  const app = await createApiApp(config, { rootLogger: logger });
  exitOnSignals(app, config, logger, () => services.stop());
  await app.listen({ port: config.http.port, host: '0.0.0.0' });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  logger.info(
    { context: 'Bootstrap', port },
    `API listening on http://localhost:${port} (role ${config.role}); docs at /docs`,
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`Start-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
