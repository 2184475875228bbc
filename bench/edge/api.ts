import Redis from 'ioredis';
import { Client, type Pool } from 'pg';
import { DataSource } from 'typeorm';
import { createApiApp } from '../../src/api-app';
import { loadConfig } from '../../src/core/config/app-config';
import { EdgeCommandsService } from '../../src/modules/edge/edge-commands.service';
import { EdgeGateway } from '../../src/modules/edge/edge.gateway';
import { memoryReply, now, Reply, Request } from './ipc';

/**
 * The API under test for bench:edge, in a process of its own (forked by main.ts with an IPC
 * channel): the production app (`createApiApp`), nothing added, on 127.0.0.1 and a free port; the
 * edge agents connect to its `/edge/ws`. Over IPC it creates commands exactly as the app does
 * (`EdgeCommandsService.create`: row written, announced on Redis; the gateway holding the socket
 * pushes it) and reports its memory, its socket count and how many SQL statements and Redis
 * commands it sent. Sends `{ type: 'listening', port }` once listening; closes on SIGTERM; exits
 * if the parent goes.
 */

/** Counts calls of a prototype method (diagnosis only; changes nothing else). */
function countCalls(target: object, method: string, count: () => void): void {
  const proto = target as Record<string, (...args: unknown[]) => unknown>;
  const original = proto[method];
  proto[method] = function (this: unknown, ...args: unknown[]) {
    count();
    return original.apply(this, args);
  };
}

async function main(): Promise<void> {
  let sql = 0;
  let redis = 0;
  countCalls(Client.prototype, 'query', () => sql++);
  countCalls(Redis.prototype, 'sendCommand', () => redis++);

  const config = loadConfig(process.env);
  const app = await createApiApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const commands = app.get(EdgeCommandsService);
  const gateway = app.get(EdgeGateway);

  const pool = (app.get(DataSource).driver as unknown as { master: Pool }).master;
  let samples = 0;
  let poolBusy = 0;
  let poolWaiting = 0;
  const sampler = setInterval(() => {
    samples++;
    poolBusy += pool.totalCount - pool.idleCount;
    poolWaiting += pool.waitingCount;
  }, 10);
  sampler.unref();
  let elu = performance.eventLoopUtilization();

  const reply = (message: Reply) => process.send?.(message);
  const fail = (err: unknown) =>
    reply({ type: 'error', message: err instanceof Error ? err.message : String(err) });

  process.on('message', (message: Request) => {
    switch (message.cmd) {
      case 'clock':
        return reply({ type: 'clock', now: now() });
      case 'memory':
        return reply(memoryReply());
      case 'connected':
        return reply({ type: 'connected', count: gateway.connectedAgents().length });
      case 'counters': {
        reply({
          type: 'counters',
          sql,
          redis,
          elu: performance.eventLoopUtilization(elu).utilization,
          poolBusy: samples ? poolBusy / samples : 0,
          poolWaiting: samples ? poolWaiting / samples : 0,
        });
        elu = performance.eventLoopUtilization();
        sql = redis = samples = poolBusy = poolWaiting = 0;
        return;
      }
      case 'unicast': {
        const calledAt = now();
        commands
          .create(message.to, 'send_message_now', {
            thread_id: message.threadId,
            text: message.text,
          })
          .then((command) => {
            const createdAt = now();
            reply({
              type: 'unicast',
              seq: message.seq,
              commandId: command.id,
              calledAt,
              createdAt,
            });
          }, fail);
        return;
      }
      case 'fanout': {
        const startedAt = now();
        let failed = 0;
        const created: Promise<unknown>[] = [];
        for (const agentId of message.to) {
          created.push(
            commands
              .create(agentId, 'send_message_now', {
                thread_id: message.threadId,
                text: message.text,
              })
              .catch(() => failed++),
          );
        }
        void Promise.all(created).then(() =>
          reply({ type: 'fanout', startedAt, createdAt: now(), failed }),
        );
        return;
      }
    }
  });

  let closing = false;
  const close = (code: number) => {
    if (closing) return;
    closing = true;
    clearInterval(sampler);
    app.close().then(
      () => process.exit(code),
      () => process.exit(1),
    );
    setTimeout(() => process.exit(1), 20_000).unref();
  };
  process.once('SIGTERM', () => close(0));
  process.once('SIGINT', () => close(0));
  process.once('disconnect', () => close(1));
  reply({ type: 'listening', port });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench edge api: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
