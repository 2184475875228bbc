import WebSocket from 'ws';

export interface ReceivedCommand {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  /** Which connection (1, 2, …) it arrived on, and the URL of that connection. */
  connection: number;
  url: string;
  at: number;
}

/**
 * An edge agent as the deployed client behaves (EDGE_PROTOCOL §3): one socket at a time,
 * `command_ack` for every command at once, and on close 1012 an immediate reconnect — to the URL
 * `target()` names then, as a load balancer would send it to a live instance. Other closes
 * reconnect after a short pause, until `stop()`.
 */
export class ReconnectingAgent {
  readonly commands: ReceivedCommand[] = [];
  readonly closes: { code: number; url: string; at: number }[] = [];
  readonly connections: { url: string; at: number }[] = [];
  private ws?: WebSocket;
  private stopped = false;

  constructor(
    readonly id: string,
    private readonly secret: string,
    private readonly target: () => string,
  ) {}

  get url(): string | undefined {
    return this.connections.at(-1)?.url;
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Opens the first socket; resolves once it is open. */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1000);
      setTimeout(() => (ws.terminate(), resolve()), 2000).unref();
    });
  }

  receivedIds(): string[] {
    return this.commands.map((c) => c.id);
  }

  private connect(): Promise<void> {
    const base = this.target();
    const url = `${base.replace(/^http/, 'ws')}/edge/ws?edge_agent_id=${this.id}`;
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${this.secret}`, 'x-edge-agent-id': this.id },
      handshakeTimeout: 10_000,
    });
    this.ws = ws;
    const connection = this.connections.length + 1;
    ws.on('message', (raw) => {
      let frame: { type?: string; data?: Record<string, unknown> };
      try {
        frame = JSON.parse(raw.toString());
      } catch {
        return;
      }
      if (frame.type !== 'command' || !frame.data) return;
      const id = String(frame.data.command_id);
      this.commands.push({
        id,
        type: String(frame.data.command_type),
        payload: (frame.data.payload ?? {}) as Record<string, unknown>,
        connection,
        url: base,
        at: Date.now(),
      });
      const ack = { command_id: id, status: 'completed', completed_at: new Date().toISOString() };
      ws.send(JSON.stringify({ type: 'command_ack', data: ack }));
    });
    // Errors end in 'close' (or a rejected first open); nothing to do here.
    ws.on('error', () => undefined);
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        this.connections.push({ url: base, at: Date.now() });
        ws.on('close', (code) => {
          this.closes.push({ code, url: base, at: Date.now() });
          if (this.stopped) return;
          const pause = code === 1012 ? 0 : 500;
          setTimeout(() => this.reconnect(), pause);
        });
        resolve();
      });
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(new Error(`upgrade refused: ${res.statusCode}`));
      });
      ws.once('close', () => reject(new Error('closed before opening')));
    });
  }

  /** Keeps trying, as the real client does (no give-up cap), until a socket opens or stop(). */
  private reconnect(): void {
    if (this.stopped) return;
    this.connect().catch(() => setTimeout(() => this.reconnect(), 250));
  }
}
