import { INestApplicationContext } from '@nestjs/common';
import { createApiApp } from '../../src/api-app';
import { createWorkerContext } from '../../src/bootstrap';
import { loadConfig } from '../../src/core/config/app-config';

/**
 * One process of the photo benchmark, forked by main.ts with an IPC channel: `api` (the
 * production API, APP_ROLE=api, on 127.0.0.1 and a free port; sends `{ type: 'listening', port }`)
 * or `worker` (the production worker context; sends `{ type: 'ready' }`). Closes on SIGTERM and
 * exits if the parent goes.
 */
async function main(role: string): Promise<void> {
  const config = loadConfig(process.env);
  let app: INestApplicationContext;
  if (role === 'api') {
    const api = await createApiApp({ ...config, role: 'api' });
    await api.listen({ port: 0, host: '127.0.0.1' });
    const address = api.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : 0;
    app = api;
    process.send?.({ type: 'listening', port });
  } else if (role === 'worker') {
    app = await createWorkerContext({ ...config, role: 'worker' });
    process.send?.({ type: 'ready' });
  } else {
    throw new Error(`unknown role ${role}: api or worker`);
  }

  let closing = false;
  const close = (code: number) => {
    if (closing) return;
    closing = true;
    app.close().then(
      () => process.exit(code),
      () => process.exit(1),
    );
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGTERM', () => close(0));
  process.once('SIGINT', () => close(0));
  process.once('disconnect', () => close(1));
}

main(process.argv[2] ?? '').catch((err: unknown) => {
  process.stderr.write(
    `bench photos ${process.argv[2]}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
