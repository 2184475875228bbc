import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OpenAI-compatible server for tests and benchmarks (node:http only). It answers
 * `POST /v1/chat/completions` (plain, JSON mode, tool calls, image parts, SSE streaming) and
 * `GET /v1/models`, records every request, and can be scripted to reply, fail or hang.
 */

export interface FakeContentPart {
  type: string;
  text?: string;
  image_url?: { url: string; detail?: string };
}

export interface FakeMessage {
  role: string;
  content?: string | FakeContentPart[] | null;
  [key: string]: unknown;
}

/** The parsed request body (only the fields the fake looks at are typed). */
export interface FakeChatBody {
  model?: string;
  messages?: FakeMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  response_format?: { type: string };
  tools?: {
    type: string;
    function: { name: string; description?: string; parameters?: unknown };
  }[];
  [key: string]: unknown;
}

export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: FakeChatBody;
  time: number;
}

export interface FakeReply {
  content?: string;
  toolCalls?: { name: string; arguments: Record<string, unknown> }[];
  /** Delay before the response (default: `setDelay` / `defaultDelayMs`). */
  delayMs?: number;
  /** Streaming only: pause between SSE chunks. */
  chunkDelayMs?: number;
  /** Streaming only: send this many SSE chunks (the role chunk is the first), then go silent. */
  stallAfterChunks?: number;
  /**
   * Answer with this error instead (after `delayMs`). With `respondWith` a test fails only the
   * requests it means to, whatever else (a worker's extraction job) talks to the fake meanwhile.
   */
  fail?: Omit<FakeFailure, 'times' | 'delayMs'>;
  /** Accept the request and never answer it. */
  hang?: boolean;
}

export interface FakeFailure {
  status: number;
  /** How many requests fail this way (default 1; `Infinity` for all of them). */
  times?: number;
  body?: object;
  headers?: Record<string, string>;
  delayMs?: number;
}

export interface FakeOpenAI {
  /** Base URL ending in `/v1`: put it in OPENAI_BASE_URL. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order (failed and hung ones included). */
  readonly requests: FakeRequest[];
  chatRequests(): FakeRequest[];
  lastChatRequest(): FakeRequest | undefined;
  /** Enqueues a reply for the next chat request (FIFO). */
  reply(reply: FakeReply): void;
  /** Dynamic replies when nothing is queued; return undefined for the default reply. */
  respondWith(fn: ((body: FakeChatBody) => FakeReply | undefined) | undefined): void;
  /** The next `times` chat requests fail with this status (failures queue up FIFO). */
  fail(failure: FakeFailure): void;
  /** The next `times` chat requests (default 1) are accepted and never answered. */
  hang(opts?: { times?: number }): void;
  /** Default delay before each chat reply. */
  setDelay(ms: number): void;
  /** Clears the request log, scripted replies, failures, hangs and the delay. */
  reset(): void;
  close(): Promise<void>;
}

const CHAT_PATH = '/v1/chat/completions';
const MODELS = ['gpt-4o-mini', 'gpt-4o'];

export async function startFakeOpenAI(
  opts: { port?: number; defaultDelayMs?: number } = {},
): Promise<FakeOpenAI> {
  const requests: FakeRequest[] = [];
  let replies: FakeReply[] = [];
  let failures: (FakeFailure & { remaining: number })[] = [];
  let responder: ((body: FakeChatBody) => FakeReply | undefined) | undefined;
  let hangs = 0;
  let delayMs = opts.defaultDelayMs ?? 0;
  let counter = 0;
  const timers = new Set<NodeJS.Timeout>();

  const wait = (ms: number): Promise<void> =>
    ms <= 0
      ? Promise.resolve()
      : new Promise((resolve) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            resolve();
          }, ms);
          timers.add(timer);
        });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0];
    let body: FakeChatBody = {};
    let badJson = false;
    if (raw) {
      try {
        body = JSON.parse(raw) as FakeChatBody;
      } catch {
        badJson = true;
      }
    }
    requests.push({
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body,
      time: Date.now(),
    });

    if (req.method === 'GET' && path === '/v1/models') {
      const created = Math.floor(Date.now() / 1000);
      const data = MODELS.map((id) => ({ id, object: 'model', created, owned_by: 'fake-openai' }));
      return sendJson(res, 200, { object: 'list', data });
    }
    if (req.method !== 'POST' || path !== CHAT_PATH) {
      return sendJson(
        res,
        404,
        errorBody(
          `Unknown request URL: ${req.method} ${path}`,
          'invalid_request_error',
          'unknown_url',
        ),
      );
    }
    if (badJson) {
      return sendJson(
        res,
        400,
        errorBody('We could not parse the JSON body of your request.', 'invalid_request_error'),
      );
    }
    if (hangs > 0) {
      hangs--;
      return; // never answered; close() destroys the socket
    }
    const failure = failures[0];
    if (failure) {
      if (--failure.remaining <= 0) failures.shift();
      await wait(failure.delayMs ?? 0);
      const fallback = errorBody(
        `Fake failure ${failure.status}`,
        failure.status === 429 ? 'rate_limit_exceeded' : 'server_error',
      );
      return sendJson(res, failure.status, failure.body ?? fallback, failure.headers);
    }

    const reply = replies.shift() ?? responder?.(body) ?? defaultReply(body);
    if (reply.hang) return; // never answered; close() destroys the socket
    await wait(reply.delayMs ?? delayMs);
    if (res.destroyed) return; // the client gave up while we waited
    if (reply.fail) {
      const fallback = errorBody(
        `Fake failure ${reply.fail.status}`,
        reply.fail.status === 429 ? 'rate_limit_exceeded' : 'server_error',
      );
      return sendJson(res, reply.fail.status, reply.fail.body ?? fallback, reply.fail.headers);
    }
    const completion = buildCompletion(body, reply, ++counter);
    if (!body.stream) return sendJson(res, 200, completion.json());

    const events = streamEvents(completion, body.stream_options?.include_usage === true);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const [i, event] of events.entries()) {
      if (i === reply.stallAfterChunks) return; // a stream that stops mid-way; close() ends it
      if (i > 0) await wait(reply.chunkDelayMs ?? 0);
      if (res.destroyed) return;
      res.write(event);
    }
    res.end();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody(String(err), 'server_error'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const chatRequests = () => requests.filter((r) => r.method === 'POST' && r.path === CHAT_PATH);

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    chatRequests,
    lastChatRequest: () => chatRequests().at(-1),
    reply: (reply) => void replies.push(reply),
    respondWith: (fn) => void (responder = fn),
    fail: (failure) => void failures.push({ ...failure, remaining: failure.times ?? 1 }),
    hang: (o) => void (hangs += o?.times ?? 1),
    setDelay: (ms) => void (delayMs = ms),
    reset() {
      requests.length = 0;
      replies = [];
      failures = [];
      responder = undefined;
      hangs = 0;
      delayMs = opts.defaultDelayMs ?? 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections(); // hung and keep-alive sockets too
      }),
  };
}

/** `Fake reply to: <last user text>`, or `{}` in JSON mode. */
function defaultReply(body: FakeChatBody): FakeReply {
  if (body.response_format?.type === 'json_object') return { content: '{}' };
  return { content: `Fake reply to: ${lastUserText(body.messages ?? [])}` };
}

export function lastUserText(messages: FakeMessage[]): string {
  const last = messages.findLast((m) => m.role === 'user');
  return last ? textOf(last) : '';
}

function textOf(message: FakeMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  return (content ?? []).flatMap((p) => (p.type === 'text' && p.text ? [p.text] : [])).join(' ');
}

/**
 * Deterministic "tokens": whitespace-separated words. Counted without splitting: the benchmark's
 * prompts pass through here at the full path's rate, on the machine being measured.
 */
function countWords(text: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = isWhitespace(text.charCodeAt(i));
    if (!space && !inWord) words++;
    inWord = !space;
  }
  return words;
}

/** Exactly the characters of the regex class `\s`. */
function isWhitespace(c: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

type Completion = ReturnType<typeof buildCompletion>;

function buildCompletion(body: FakeChatBody, reply: FakeReply, n: number) {
  const id = `chatcmpl-fake-${n}`;
  const created = Math.floor(Date.now() / 1000);
  const model = body.model ?? MODELS[0];
  const content = reply.content ?? (reply.toolCalls?.length ? null : '');
  const toolCalls = (reply.toolCalls ?? []).map((call, i) => ({
    id: `call_fake_${n}_${i}`,
    type: 'function' as const,
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  }));
  const promptTokens = (body.messages ?? []).reduce((sum, m) => sum + countWords(textOf(m)), 0);
  const completionTokens =
    countWords(content ?? '') +
    toolCalls.reduce((sum, c) => sum + countWords(c.function.arguments) + 1, 0);
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
  const finishReason = toolCalls.length ? 'tool_calls' : 'stop';
  return {
    id,
    created,
    model,
    content,
    toolCalls,
    usage,
    finishReason,
    json: () => ({
      id,
      object: 'chat.completion',
      created,
      model,
      system_fingerprint: 'fp_fake',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content,
            refusal: null,
            ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
          },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      usage,
    }),
  };
}

/** SSE events in the `chat.completion.chunk` format: role, content tokens, tool calls, finish, usage. */
function streamEvents(c: Completion, includeUsage: boolean): string[] {
  const events: string[] = [];
  const chunk = (choices: unknown[], extra: object = {}) => {
    const { id, created, model } = c;
    const payload = { id, object: 'chat.completion.chunk', created, model, choices, ...extra };
    events.push(`data: ${JSON.stringify({ ...payload, system_fingerprint: 'fp_fake' })}\n\n`);
  };
  const delta = (d: object, finishReason: string | null = null) =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finishReason }]);

  delta({ role: 'assistant', content: '', refusal: null });
  for (const token of c.content?.match(/\S+\s*|\s+/g) ?? []) delta({ content: token });
  c.toolCalls.forEach((call, index) => {
    const { name, arguments: args } = call.function;
    const head = { index, id: call.id, type: 'function', function: { name, arguments: '' } };
    delta({ tool_calls: [head] });
    const half = Math.ceil(args.length / 2);
    for (const piece of [args.slice(0, half), args.slice(half)].filter(Boolean)) {
      delta({ tool_calls: [{ index, function: { arguments: piece } }] });
    }
  });
  delta({}, c.finishReason);
  if (includeUsage) chunk([], { usage: c.usage });
  events.push('data: [DONE]\n\n');
  return events;
}

function errorBody(message: string, type: string, code: string | null = null) {
  return { error: { message, type, param: null, code } };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
