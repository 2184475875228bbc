import { randomUUID } from 'node:crypto';
import WebSocket, { WebSocketServer } from 'ws';
import { memoryReply, now, Reply, Request } from './ipc';

/**
 * The floor of bench:edge: a bare `ws` WebSocketServer in a process of its own (forked by main.ts
 * with an IPC channel): no Nest, no authentication, no database, no Redis. It keeps one socket per
 * `?edge_agent_id=` and, when asked over IPC, sends that socket a command frame of the same shape
 * and size as the gateway's. Same options as the gateway's server (no permessage-deflate, no
 * client tracking, 1 MiB max payload). Sends `{ type: 'listening', port }` once listening; exits
 * if the parent goes.
 */

const sockets = new Map<string, WebSocket>();
let lastElu = performance.eventLoopUtilization();
const elu = () => {
  const value = performance.eventLoopUtilization(lastElu).utilization;
  lastElu = performance.eventLoopUtilization();
  return value;
};
let pendingAcks: Set<string> | undefined;

const reply = (message: Reply) => process.send?.(message);

function commandFrame(threadId: string, text: string): { id: string; frame: string } {
  const id = randomUUID();
  const frame = JSON.stringify({
    type: 'command',
    data: {
      command_id: id,
      command_type: 'send_message_now',
      payload: { thread_id: threadId, text },
      timestamp: new Date().toISOString(),
      priority: 'normal',
    },
  });
  return { id, frame };
}

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: false,
  clientTracking: false,
  maxPayload: 1024 * 1024,
});

wss.on('connection', (ws, req) => {
  const agentId = new URL(req.url ?? '/', 'http://floor').searchParams.get('edge_agent_id') ?? '';
  sockets.get(agentId)?.terminate();
  sockets.set(agentId, ws);
  ws.on('error', () => undefined);
  ws.on('close', () => {
    if (sockets.get(agentId) === ws) sockets.delete(agentId);
  });
  ws.on('message', (data) => {
    if (!pendingAcks) return;
    let frame: { type?: string; data?: { command_id?: string } };
    try {
      frame = JSON.parse(data.toString()) as typeof frame;
    } catch {
      return;
    }
    const id = frame.data?.command_id;
    if (frame.type !== 'command_ack' || !id || !pendingAcks.delete(id)) return;
    if (pendingAcks.size === 0) {
      pendingAcks = undefined;
      reply({ type: 'fanout-acked', at: now() });
    }
  });
});

process.on('message', (message: Request) => {
  switch (message.cmd) {
    case 'clock':
      return reply({ type: 'clock', now: now() });
    case 'memory':
      return reply(memoryReply());
    case 'connected':
      return reply({ type: 'connected', count: sockets.size });
    case 'counters':
      return reply({ type: 'counters', sql: 0, redis: 0, elu: elu(), poolBusy: 0, poolWaiting: 0 });
    case 'unicast': {
      const ws = sockets.get(message.to);
      if (!ws) return reply({ type: 'error', message: `no socket for ${message.to}` });
      const calledAt = now();
      const { id, frame } = commandFrame(message.threadId, message.text);
      ws.send(frame);
      return reply({
        type: 'unicast',
        seq: message.seq,
        commandId: id,
        calledAt,
        createdAt: calledAt,
      });
    }
    case 'fanout': {
      pendingAcks = new Set();
      let failed = 0;
      const startedAt = now();
      for (const agentId of message.to) {
        const ws = sockets.get(agentId);
        if (!ws) {
          failed++;
          continue;
        }
        const { id, frame } = commandFrame(message.threadId, message.text);
        pendingAcks.add(id);
        ws.send(frame);
      }
      return reply({ type: 'fanout', startedAt, createdAt: now(), failed });
    }
  }
});

wss.on('listening', () => {
  const address = wss.address();
  reply({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
});
wss.on('error', (err) => {
  process.stderr.write(`bench floor: ${err.message}\n`);
  process.exit(1);
});
const close = (code: number) => {
  for (const ws of sockets.values()) ws.terminate();
  wss.close(() => process.exit(code));
  setTimeout(() => process.exit(code), 2000).unref();
};
process.once('SIGTERM', () => close(0));
process.once('SIGINT', () => close(0));
process.once('disconnect', () => close(1));
