import { randomBytes, randomUUID } from 'node:crypto';
import { IncomingMessage, Server, STATUS_CODES } from 'node:http';
import { hostname } from 'node:os';
import { Duplex } from 'node:stream';
import {
  BeforeApplicationShutdown,
  HttpException,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import Redis from 'ioredis';
import WebSocket, { RawData, WebSocketServer } from 'ws';
import { AuthScheme } from '../../common/auth/auth.decorators';
import { errorBody } from '../../common/filters/all-exceptions.filter';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { createRedisConnection } from '../../core/redis/redis.factory';
import { AuthService } from '../auth/auth.service';
import {
  EDGE_TOKEN_LIFETIME_SECONDS,
  EDGE_TOKEN_SKEW_SECONDS,
  EdgePrincipal,
} from '../auth/edge-token.verifier';
import { AuthRequest } from '../auth/scheme-verifier';
import { bearerToken } from '../../common/crypto/safe-equal';
import { EdgeAgentsRepository } from './edge-agents.repository';
import { Coalescer } from './edge-batch';
import { ClaimMode, EdgeCommand } from './edge-commands.repository';
import {
  CLAIM_BATCH,
  EDGE_AGENT_ID,
  EdgeAck,
  EdgeCommandsService,
  toWireCommand,
} from './edge-commands.service';
import { EdgePresenceService } from './edge-presence.service';
import { CONNECTION_GENERATION_KEY, ConnectionOpenedMessage, edgeChannels } from './edge-pubsub';
import { EDGE_TIMINGS, EdgeTimings } from './edge-timings';
import { nulFree } from '../../common/validation/nul';

/** Frames larger than this close the socket with 1009 (RELIABILITY row 28). */
export const EDGE_WS_MAX_PAYLOAD = 1024 * 1024;
export const EDGE_WS_PATH = '/edge/ws';

/** Close codes: 1012 = service restart (the edge reconnects at once); the rest are ours. */
export const EdgeCloseCode = {
  Restart: 1012,
  Replaced: 4000,
  TokenExpired: 4001,
} as const;

interface Connection {
  id: string;
  agentId: string;
  ws: WebSocket;
  connectedAt: Date;
  /** Cross-instance order of connections (Redis INCR): the higher one wins. */
  generation: number;
  lastActivity: number;
  lastTouch: number;
  /** An HMAC token's end of validity (ms); the raw secret never expires. */
  tokenExpiresAt: number | null;
  /** The strongest flush asked for while one was running. */
  want: ClaimMode | null;
  flushing: boolean;
  /** Commands pushed on this socket that the agent has not acknowledged yet. */
  unacked: Set<string>;
  /** Acks are recorded one at a time, in arrival order (a schedule's two acks can be adjacent). */
  acks: Promise<unknown>;
  closed: boolean;
  /** The announcement and presence of this socket; its cleanup waits for them. */
  ready: Promise<void>;
  closedPromise: Promise<void>;
}

const MODE_STRENGTH: Record<ClaimMode, number> = { new: 0, due: 1, reconnect: 2 };

/**
 * The edge agents' WebSocket (`/edge/ws`, EDGE_PROTOCOL §3): a raw `ws` server on the API's own
 * HTTP server. The upgrade is authenticated by the same AuthService as HTTP and always answered at
 * once (101 or an error status; a stalled upgrade crashes the deployed client, §3.5).
 *
 * One socket per agent, newest wins, on every instance: a connection is announced on Redis and
 * any other instance holding an older socket for that agent closes it. Commands live in Postgres;
 * an instance pushes an agent's commands when it connects, when a `commands` announcement names
 * it (any instance or worker may create commands), and on the resend sweep (unacked after
 * `resendAfterMs` → same id again, up to `maxAttempts`).
 */
@Injectable()
export class EdgeGateway
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  /** Names this process in presence keys and `edge_agents.connected_instance`. */
  readonly instanceId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly logger = new Logger(EdgeGateway.name);
  private readonly channels: ReturnType<typeof edgeChannels>;
  /** The current socket of each agent on this instance. */
  private readonly connections = new Map<string, Connection>();
  /** Every open socket, including replaced ones still closing. */
  private readonly open = new Set<Connection>();
  private readonly cleanups = new Set<Promise<void>>();
  /** Recent connections announced by other instances, by agent: a late local one yields. */
  private readonly announced = new Map<string, { generation: number; at: number }>();
  private server?: Server;
  private wss?: WebSocketServer;
  private subscriber?: Redis;
  private tickTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private lastPingRound = 0;
  /** The flushes' claims, batched: see `claim`. */
  private readonly claims = new Coalescer<string, EdgeCommand[]>(async (mode, waiting) => {
    const claimed = await this.commands.claimForSendMany([...waiting.keys()], mode as ClaimMode);
    for (const [agentId, { resolve }] of waiting) resolve(claimed.get(agentId) ?? []);
  });
  private sweeping = false;
  private closing = false;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly auth: AuthService,
    private readonly commands: EdgeCommandsService,
    private readonly agents: EdgeAgentsRepository,
    private readonly presence: EdgePresenceService,
    private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EDGE_TIMINGS) private readonly timings: EdgeTimings,
  ) {
    this.channels = edgeChannels(config);
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return; // an application context (worker): no sockets here
    this.server = server;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: EDGE_WS_MAX_PAYLOAD,
      perMessageDeflate: false,
      clientTracking: false,
    });
    server.on('upgrade', this.onUpgrade);

    this.subscriber = createRedisConnection(this.config, 'edge-pubsub', 'subscriber');
    this.subscriber.on('message', (channel: string, message: string) =>
      this.onAnnouncement(channel, message),
    );
    // Every (re)connection subscribes here; the connection does not resubscribe by itself.
    this.subscriber.on('ready', () => void this.subscribe());
    await this.subscribe();
    this.startTimers();
  }

  /** Shortens or lengthens the clocks at run time (tests; the defaults come from the config). */
  configure(changes: Partial<EdgeTimings>): void {
    Object.assign(this.timings, changes);
    if (this.server && !this.closing) this.startTimers();
  }

  /** The agents whose socket is on this instance. */
  connectedAgents(): string[] {
    return [...this.connections.keys()];
  }

  /** Closes every socket with 1012 so the agents reconnect at once, to another instance. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.server || this.closing) return;
    this.closing = true;
    clearInterval(this.tickTimer);
    clearInterval(this.sweepTimer);
    // quit lets a subscribe still in flight get its answer first.
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
    const sockets = [...this.open];
    await this.settle(sockets);
    for (const conn of sockets) conn.ws.close(EdgeCloseCode.Restart, 'server restarting');
    if (sockets.length) {
      this.logger.log(`closing ${sockets.length} edge socket(s) with 1012`);
      const grace = new Promise<void>((r) => setTimeout(r, this.timings.closeGraceMs).unref());
      await Promise.race([Promise.all(sockets.map((c) => c.closedPromise)), grace]);
      for (const conn of sockets) if (!conn.closed) conn.ws.terminate();
      await Promise.all(sockets.map((c) => c.closedPromise));
    }
    await Promise.all([...this.cleanups]);
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
  }

  onApplicationShutdown(): void {
    this.server?.off('upgrade', this.onUpgrade);
  }

  /**
   * Before the 1012: nothing new is pushed, the agents get up to `closeGraceMs` to acknowledge
   * what they already have, and those acks are recorded. An agent reconnects elsewhere the moment
   * it sees the 1012, and the instance it lands on pushes again every command Postgres still has
   * unacknowledged: an ack this instance had received but not yet recorded would make a command
   * run twice on the Mac (the edge does not deduplicate).
   */
  private async settle(sockets: Connection[]): Promise<void> {
    const deadline = Date.now() + this.timings.closeGraceMs;
    const busy = (c: Connection) => !c.closed && (c.flushing || c.unacked.size > 0);
    while (sockets.some(busy) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(sockets.map((c) => c.acks));
  }

  // ---- upgrade ----

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '/').split('?')[0].replace(/^\/+/, '/');
    if (path !== EDGE_WS_PATH && path !== `${EDGE_WS_PATH}/`) {
      refuseUpgrade(socket, 404, `No WebSocket at ${path}`);
      return;
    }
    if (this.closing || !this.wss) {
      refuseUpgrade(socket, 503, 'Server restarting, reconnect');
      return;
    }
    void this.authenticateUpgrade(req, socket, head);
  };

  private async authenticateUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): Promise<void> {
    const onSocketError = () => socket.destroy();
    socket.on('error', onSocketError);
    // Never leave an upgrade unanswered, whatever verification or bookkeeping waits on.
    let answered = false;
    const timer = setTimeout(() => {
      answered = true;
      refuseUpgrade(socket, 503, 'Connection setup timed out, retry');
    }, this.timings.upgradeTimeoutMs);
    try {
      const request: AuthRequest = req;
      const problem = await this.verifyUpgrade(request);
      if (answered) return;
      if (problem) {
        this.logger.warn(
          `edge upgrade refused (${problem.status}) from ${req.socket.remoteAddress}: ${problem.message}`,
        );
        refuseUpgrade(socket, problem.status, problem.message);
        return;
      }
      const principal = request.auth![AuthScheme.EdgeToken] as EdgePrincipal;
      const agentId = principal.agentId!;
      // Recorded before the 101: once the agent sees its socket open, it is known and placed.
      const connectedAt = new Date();
      const generation = await this.redis.incr(CONNECTION_GENERATION_KEY).catch(() => 0);
      await this.agents
        .recordConnection(agentId, this.instanceId, connectedAt, principal.phone)
        .catch((err: Error) =>
          this.logger.warn(`connection of ${agentId} not recorded: ${err.message}`),
        );
      if (answered || this.closing || !socket.readable || !socket.writable) {
        if (!answered) refuseUpgrade(socket, 503, 'Server restarting, reconnect');
        void this.agents.clearConnection(agentId, this.instanceId, connectedAt).catch(() => {});
        return;
      }
      answered = true;
      this.wss!.handleUpgrade(req, socket, head, (ws) => {
        socket.off('error', onSocketError);
        this.onConnection(ws, principal, req, connectedAt, generation);
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Why this upgrade is refused (status + message), or undefined to accept it. */
  private async verifyUpgrade(
    request: AuthRequest,
  ): Promise<{ status: number; message: string } | undefined> {
    try {
      await this.auth.verify(request, [AuthScheme.EdgeToken]);
    } catch (err) {
      if (err instanceof HttpException) return { status: err.getStatus(), message: err.message };
      this.logger.error(`edge upgrade verification failed: ${(err as Error).message}`);
      return { status: 500, message: 'Internal server error' };
    }
    const agentId = (request.auth?.[AuthScheme.EdgeToken] as EdgePrincipal | undefined)?.agentId;
    if (!agentId) {
      return {
        status: 400,
        message: 'Name the agent: ?edge_agent_id=<id> or the X-Edge-Agent-Id header',
      };
    }
    if (!EDGE_AGENT_ID.test(agentId)) {
      return { status: 400, message: 'edge_agent_id has characters outside [A-Za-z0-9_.:@+-]' };
    }
    if (this.closing) return { status: 503, message: 'Server restarting, reconnect' };
    return undefined;
  }

  // ---- connection ----

  private onConnection(
    ws: WebSocket,
    principal: EdgePrincipal,
    req: IncomingMessage,
    connectedAt: Date,
    generation: number,
  ): void {
    const agentId = principal.agentId!;
    let markClosed!: () => void;
    const now = Date.now();
    const conn: Connection = {
      id: randomUUID(),
      agentId,
      ws,
      connectedAt,
      generation,
      lastActivity: now,
      lastTouch: now,
      tokenExpiresAt: principal.mode === 'token' ? tokenExpiry(req) : null,
      want: null,
      flushing: false,
      unacked: new Set(),
      acks: Promise.resolve(),
      closed: false,
      ready: Promise.resolve(),
      closedPromise: new Promise<void>((resolve) => (markClosed = resolve)),
    };
    ws.on('error', (err) => this.logger.debug(`edge socket of ${agentId}: ${err.message}`));
    ws.on('pong', () => (conn.lastActivity = Date.now()));
    ws.on('ping', () => (conn.lastActivity = Date.now()));
    ws.on('message', (data, isBinary) => this.onFrame(conn, data, isBinary));
    ws.on('close', (code, reason) => {
      conn.closed = true;
      this.open.delete(conn);
      this.logger.log(
        `edge agent ${agentId} disconnected (${code}${reason.length ? ` ${reason.toString()}` : ''})`,
      );
      const cleanup = conn.ready.then(() => this.cleanup(conn));
      this.cleanups.add(cleanup);
      void cleanup.finally(() => {
        this.cleanups.delete(cleanup);
        markClosed();
      });
    });

    this.open.add(conn);
    const previous = this.connections.get(agentId);
    this.connections.set(agentId, conn);
    if (previous) this.replace(previous, 'replaced by a newer connection');
    this.logger.log(`edge agent ${agentId} connected (${principal.mode})`);
    const newer = this.announced.get(agentId);
    if (newer && newer.generation > generation) {
      // Another instance accepted a newer socket for this agent while this one was being set up.
      this.replace(conn, 'replaced by a newer connection on another instance');
      return;
    }
    // The first push on this socket: everything queued, and what older sockets left unacked.
    this.requestFlush(conn, 'reconnect');
    conn.ready = this.announce(conn).catch((err: Error) =>
      this.logger.warn(`edge agent ${agentId} not announced: ${err.message}`),
    );
  }

  /** Tells the other instances (their older sockets for the agent close); records presence. */
  private async announce(conn: Connection): Promise<void> {
    const opened: ConnectionOpenedMessage = {
      agentId: conn.agentId,
      instanceId: this.instanceId,
      connectionId: conn.id,
      generation: conn.generation,
    };
    await Promise.all([
      this.redis
        .publish(this.channels.connections, JSON.stringify(opened))
        .catch((err: Error) => this.logger.warn(`connection not announced: ${err.message}`)),
      this.presence.attach(conn.agentId, this.instanceId),
    ]);
  }

  private async cleanup(conn: Connection): Promise<void> {
    if (this.connections.get(conn.agentId) !== conn) return; // a newer socket took over here
    this.connections.delete(conn.agentId);
    await this.presence.detach(conn.agentId, this.instanceId);
    await this.agents
      .clearConnection(conn.agentId, this.instanceId, conn.connectedAt)
      .catch((err: Error) =>
        this.logger.warn(`disconnect of ${conn.agentId} not recorded: ${err.message}`),
      );
  }

  /** Newest wins: the older socket is closed, and dropped if it does not finish closing. */
  private replace(conn: Connection, reason: string): void {
    if (conn.closed) return;
    this.logger.log(`edge agent ${conn.agentId}: closing older socket (${reason})`);
    conn.want = null;
    conn.ws.close(EdgeCloseCode.Replaced, reason);
    setTimeout(() => {
      if (!conn.closed) conn.ws.terminate();
    }, this.timings.closeGraceMs).unref();
  }

  private onFrame(conn: Connection, data: RawData, isBinary: boolean): void {
    conn.lastActivity = Date.now();
    const text = rawToBuffer(data).toString('utf8');
    let frame: unknown;
    try {
      // An ack's error text is stored: NUL (which Postgres refuses) is dropped, not the ack.
      frame = JSON.parse(text, nulFree);
    } catch {
      this.logger.warn(
        `edge agent ${conn.agentId}: ignored a non-JSON ${isBinary ? 'binary ' : ''}frame (${text.length} chars)`,
      );
      return;
    }
    if (!isObject(frame) || typeof frame.type !== 'string') {
      this.logger.warn(`edge agent ${conn.agentId}: ignored a frame without a type`);
      return;
    }
    switch (frame.type) {
      case 'ping':
        if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send('{"type":"pong"}');
        if (Date.now() - conn.lastTouch >= 25_000) {
          conn.lastTouch = Date.now();
          void this.agents
            .touch(conn.agentId)
            .catch((err: Error) => this.logger.debug(`touch failed: ${err.message}`));
        }
        return;
      case 'command_ack':
        if (!isObject(frame.data)) {
          this.logger.warn(`edge agent ${conn.agentId}: command_ack without data`);
          return;
        }
        conn.unacked.delete(String(frame.data.command_id));
        conn.acks = conn.acks.then(() =>
          this.commands
            .ack(conn.agentId, frame.data as unknown as EdgeAck)
            .catch((err: Error) =>
              this.logger.error(`ack from ${conn.agentId} not recorded: ${err.message}`),
            ),
        );
        return;
      default:
        this.logger.debug(`edge agent ${conn.agentId}: ignored a frame of type ${frame.type}`);
    }
  }

  // ---- pushing commands ----

  private requestFlush(conn: Connection, mode: ClaimMode): void {
    if (this.closing || conn.closed || this.connections.get(conn.agentId) !== conn) return;
    if (conn.want === null || MODE_STRENGTH[mode] > MODE_STRENGTH[conn.want]) conn.want = mode;
    if (conn.flushing) return;
    conn.flushing = true;
    void this.flush(conn).finally(() => (conn.flushing = false));
  }

  /** One flush at a time per socket, so commands leave in `seq` order and never twice. */
  private async flush(conn: Connection): Promise<void> {
    while (conn.want !== null && !conn.closed && this.connections.get(conn.agentId) === conn) {
      const mode = conn.want;
      conn.want = null;
      try {
        const batch = await this.claim(conn.agentId, mode);
        for (const command of batch) {
          // Claimed but unsent rows stay `delivered` and go out again on the next connection.
          if (conn.ws.readyState !== WebSocket.OPEN) return;
          conn.unacked.add(command.id);
          conn.ws.send(JSON.stringify({ type: 'command', data: toWireCommand(command) }));
        }
        if (batch.length) {
          this.logger.debug(`pushed ${batch.length} command(s) to ${conn.agentId} (${mode})`);
        }
        if (batch.length >= CLAIM_BATCH && conn.want === null) conn.want = 'due';
      } catch (err) {
        // Left in Postgres: the sweep tries again.
        this.logger.warn(`commands for ${conn.agentId} not pushed: ${(err as Error).message}`);
        return;
      }
    }
  }

  /**
   * The agent's next commands, claimed together with those of every other socket asking at about
   * the same time: the claims asked for in one turn of the event loop, or while the previous
   * claims were running, are made in one statement per mode (a fan-out of 1,000 commands costs a
   * few claims, not 1,000). Each socket still flushes one batch at a time, in `seq` order.
   */
  private claim(agentId: string, mode: ClaimMode): Promise<EdgeCommand[]> {
    // An agent is in a round once (an older socket of it may still be flushing).
    return this.claims.submit(mode, agentId, agentId);
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber?.subscribe(this.channels.commands, this.channels.connections);
    } catch (err) {
      this.logger.warn(`edge pub/sub not subscribed yet: ${(err as Error).message}`);
    }
  }

  private onAnnouncement(channel: string, message: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    if (!isObject(parsed) || typeof parsed.agentId !== 'string') return;
    if (channel === this.channels.commands) {
      const conn = this.connections.get(parsed.agentId);
      if (conn) this.requestFlush(conn, 'new');
    } else if (channel === this.channels.connections) {
      const opened = parsed as unknown as ConnectionOpenedMessage;
      if (opened.instanceId === this.instanceId || typeof opened.generation !== 'number') return;
      const known = this.announced.get(opened.agentId);
      if (!known || known.generation < opened.generation) {
        this.announced.set(opened.agentId, { generation: opened.generation, at: Date.now() });
      }
      const conn = this.connections.get(opened.agentId);
      if (conn && conn.generation < opened.generation) {
        this.replace(conn, 'replaced by a newer connection on another instance');
      }
    }
  }

  // ---- liveness, presence, resends ----

  private startTimers(): void {
    clearInterval(this.tickTimer);
    clearInterval(this.sweepTimer);
    const { pingIntervalMs, idleTimeoutMs, resendAfterMs } = this.timings;
    const tickMs = clamp(Math.min(pingIntervalMs, idleTimeoutMs) / 4, 25, 5000);
    this.tickTimer = setInterval(() => this.tick(), tickMs);
    this.tickTimer.unref();
    this.sweepTimer = setInterval(() => void this.sweep(), clamp(resendAfterMs / 2, 50, 5000));
    this.sweepTimer.unref();
  }

  private tick(): void {
    const now = Date.now();
    for (const conn of this.open) {
      if (now - conn.lastActivity > this.timings.idleTimeoutMs) {
        this.logger.warn(
          `edge agent ${conn.agentId}: no pong or frame for ${now - conn.lastActivity} ms, terminating`,
        );
        conn.ws.terminate();
      } else if (conn.tokenExpiresAt !== null && now > conn.tokenExpiresAt) {
        conn.tokenExpiresAt = null;
        conn.ws.close(EdgeCloseCode.TokenExpired, 'edge token expired');
      }
    }
    if (now - this.lastPingRound >= this.timings.pingIntervalMs) {
      this.lastPingRound = now;
      for (const [agentId, { at }] of this.announced) {
        if (now - at > 60_000) this.announced.delete(agentId);
      }
      for (const conn of this.open) {
        if (conn.ws.readyState === WebSocket.OPEN) conn.ws.ping();
      }
      void this.presence.refresh(this.connectedAgents(), this.instanceId);
    }
  }

  private async sweep(): Promise<void> {
    if (this.sweeping || this.connections.size === 0) return;
    this.sweeping = true;
    try {
      const agentIds = await this.commands.agentsWithWork(this.connectedAgents());
      for (const agentId of agentIds) {
        const conn = this.connections.get(agentId);
        if (conn) this.requestFlush(conn, 'due');
      }
    } catch (err) {
      this.logger.warn(`edge resend sweep failed: ${(err as Error).message}`);
    } finally {
      this.sweeping = false;
    }
  }
}

/** Answers an upgrade with an HTTP error at once and closes the connection (§3.5). */
function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(status, message));
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** When the (already verified) HMAC token of this upgrade stops being valid, in ms. */
function tokenExpiry(req: IncomingMessage): number | null {
  const token = bearerToken(req.headers.authorization);
  if (!token) return null;
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const parts = decoded.split(':');
  const ts = Number(parts[parts.length - 2]);
  if (!Number.isFinite(ts)) return null;
  return (ts + EDGE_TOKEN_LIFETIME_SECONDS + EDGE_TOKEN_SKEW_SECONDS) * 1000;
}

function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}
