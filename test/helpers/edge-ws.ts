import WebSocket from 'ws';

/** A frame as the edge reads it: `{type, data?}`. */
export interface EdgeFrame {
  type: string;
  data?: Record<string, unknown>;
}

export interface WireCommand {
  command_id: string;
  command_type: string;
  payload: Record<string, unknown>;
  timestamp: string;
  priority: string;
}

export interface EdgeSocketOptions {
  /** The whole Authorization header value; omitted when undefined. */
  authorization?: string;
  /** Send the id as `?edge_agent_id=` (default true). */
  query?: boolean;
  /** Send the id as `X-Edge-Agent-Id` (default true, like the real client). */
  header?: boolean;
  /** Answer protocol pings (default true, like the real client's `ws`). */
  autoPong?: boolean;
  path?: string;
}

/** The URL and headers the real edge client uses (EDGE_PROTOCOL §3.1). */
function target(baseUrl: string, agentId: string | undefined, options: EdgeSocketOptions) {
  const path = options.path ?? '/edge/ws';
  const query = agentId !== undefined && options.query !== false ? `?edge_agent_id=${agentId}` : '';
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) headers.Authorization = options.authorization;
  if (agentId !== undefined && options.header !== false) headers['X-Edge-Agent-Id'] = agentId;
  return { url: `${baseUrl.replace(/^http/, 'ws')}${path}${query}`, headers };
}

/**
 * A test edge agent: a real `ws` client that records every frame, answers nothing by itself
 * except protocol pings, and lets a test wait for the next frame of a type.
 */
export class EdgeSocket {
  readonly frames: EdgeFrame[] = [];
  private listeners: (() => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  closeEvent?: { code: number; reason: string };

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      try {
        this.frames.push(JSON.parse(data.toString()) as EdgeFrame);
      } catch {
        this.frames.push({ type: '<non-json>' });
      }
      this.listeners.forEach((l) => l());
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closeEvent = { code, reason: reason.toString() };
        this.listeners.forEach((l) => l());
        resolve(this.closeEvent);
      }),
    );
    ws.on('error', () => undefined);
  }

  static open(
    baseUrl: string,
    agentId: string | undefined,
    options: EdgeSocketOptions = {},
  ): Promise<EdgeSocket> {
    const { url, headers } = target(baseUrl, agentId, options);
    const ws = new WebSocket(url, { headers, autoPong: options.autoPong ?? true });
    const socket = new EdgeSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
      ws.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame (not returned before) of this type, within `timeoutMs`. */
  async next(type: string, timeoutMs = 3000): Promise<EdgeFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Frames of other types stay available to their own next().
      const index = this.frames.findIndex((f) => f.type === type);
      if (index >= 0) {
        const frame = this.frames[index];
        this.frames.splice(index, 1);
        return frame;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closeEvent) {
        throw new Error(
          `no ${type} frame within ${timeoutMs} ms (got ${JSON.stringify(this.frames.map((f) => f.type))}, close ${JSON.stringify(this.closeEvent)})`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const listener = () => done();
        this.listeners.push(listener);
        function done() {
          clearTimeout(timer);
          resolve();
        }
      });
      this.listeners = [];
    }
  }

  async nextCommand(timeoutMs = 3000): Promise<WireCommand> {
    return (await this.next('command', timeoutMs)).data as unknown as WireCommand;
  }

  /** Proves that no frame of this type arrives within `ms`. */
  async expectNone(type: string, ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    const late = this.frames.filter((f) => f.type === type);
    if (late.length) throw new Error(`unexpected ${type} frame(s): ${JSON.stringify(late)}`);
  }

  ack(commandId: string, data: Record<string, unknown> = {}): void {
    this.send({
      type: 'command_ack',
      data: {
        command_id: commandId,
        status: 'completed',
        completed_at: new Date().toISOString(),
        ...data,
      },
    });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(1000);
    await this.closed;
  }
}

/** An upgrade the server must refuse: its HTTP status, body and how long the answer took. */
export function refusedUpgrade(
  baseUrl: string,
  agentId: string | undefined,
  options: EdgeSocketOptions = {},
): Promise<{ status: number; ms: number; body: string }> {
  const { url, headers } = target(baseUrl, agentId, options);
  const started = Date.now();
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - started, body }));
      res.on('error', () =>
        resolve({ status: res.statusCode ?? 0, ms: Date.now() - started, body }),
      );
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Polls until `check` passes (or throws its last failure after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
