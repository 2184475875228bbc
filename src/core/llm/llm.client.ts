import {
  Inject,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from 'openai';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../metrics/metrics.service';
import { LlmError } from './llm.errors';
import type {
  ChatRequest,
  ChatResult,
  DescribeImageInput,
  ExtractJsonInput,
  LlmStatus,
  LlmToolCall,
  LlmUsage,
} from './llm.types';
import { createNodeHttpFetch } from './node-http-fetch';
import { offlineChat, offlineImageDescription } from './offline-responder';
import { nulFree, withoutNul } from '../../common/validation/nul';

/** Backoff of our own retry loop: 0.5 s doubling up to 8 s, minus up to 25 % jitter. */
const BACKOFF_INITIAL_MS = 500;
const BACKOFF_MAX_MS = 8_000;
const BACKOFF_JITTER = 0.25;
/** A server asking us to come back later than this is treated as unavailable right away. */
const MAX_RETRY_AFTER_MS = 30_000;
const MAX_UPSTREAM_MESSAGE_CHARS = 300;

type CreateParams = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;

/**
 * The one gateway to the LLM: OpenAI or any OpenAI-compatible server (OPENAI_BASE_URL), or the
 * offline responder when OPENAI_API_KEY is unset.
 *
 * Retries are ours, not the SDK's (the SDK would also retry 429 `insufficient_quota`): up to
 * `llm.maxRetries` retries on 408/409/429/5xx, connection errors and timeouts, honouring
 * `retry-after-ms` / `Retry-After`. Every attempt is bounded by `llm.timeoutMs` (a whole response;
 * for streams, the longest silence between chunks). Failures surface as `LlmError`.
 */
@Injectable()
export class LlmClient implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LlmClient.name);
  private readonly openai: OpenAI | undefined;
  private readonly http = createNodeHttpFetch();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    // Only the API serves /metrics; workers log their failures.
    @Optional() private readonly metrics?: MetricsService,
  ) {
    const { apiKey, baseUrl, timeoutMs } = config.llm;
    this.openai = apiKey
      ? new OpenAI({
          apiKey,
          baseURL: baseUrl,
          timeout: timeoutMs,
          maxRetries: 0,
          fetch: this.http.fetch,
        })
      : undefined;
  }

  onModuleDestroy(): void {
    this.http.close();
  }

  onModuleInit(): void {
    if (this.offline) {
      this.logger.warn(
        'OPENAI_API_KEY is unset: replies come from the offline responder (deterministic, no network)',
      );
    }
  }

  get offline(): boolean {
    return this.openai === undefined;
  }

  /** For /health: never includes the key or the base URL. */
  status(): LlmStatus {
    return {
      mode: this.offline ? 'offline' : 'openai',
      model: this.config.llm.model,
      visionModel: this.config.llm.visionModel,
    };
  }

  /** One chat completion. `latencyMs` covers the whole call, retries included. */
  async chat(req: ChatRequest): Promise<ChatResult> {
    const openai = this.openai;
    if (!openai) return offlineChat(req);
    const params = this.params(req);
    const started = Date.now();
    const completion = await this.withRetries(
      'chat',
      (attempt) => openai.chat.completions.create(params, { signal: attempt.signal }),
      () => true,
      req.deadline,
    );
    const message = completion.choices[0]?.message;
    return {
      content: message?.content == null ? null : withoutNul(message.content),
      toolCalls: (message?.tool_calls ?? []).flatMap((call) =>
        call.type === 'function'
          ? [toolCall(call.id, call.function.name, call.function.arguments)]
          : [],
      ),
      model: completion.model || params.model,
      usage: toUsage(completion.usage),
      latencyMs: Date.now() - started,
      offline: false,
    };
  }

  /**
   * A streamed chat completion: `onDelta` receives the content as it arrives, in order. A failed
   * attempt is retried only while nothing has been handed to `onDelta` yet.
   */
  async streamChat(req: ChatRequest, onDelta: (text: string) => void): Promise<ChatResult> {
    const openai = this.openai;
    if (!openai) {
      const result = offlineChat(req);
      if (result.content) onDelta(result.content);
      return result;
    }
    const params = this.params(req);
    const started = Date.now();
    let delivered = false;
    const deliver = (text: string): void => {
      delivered = true;
      try {
        onDelta(text);
      } catch (err) {
        throw new CallerError(err);
      }
    };

    const acc = await this.withRetries(
      'stream',
      async (attempt) => {
        const stream = await openai.chat.completions.create(
          { ...params, stream: true, stream_options: { include_usage: true } },
          { signal: attempt.signal },
        );
        const acc = new StreamAccumulator();
        for await (const chunk of stream) {
          attempt.touch();
          acc.add(chunk, deliver);
        }
        // The SDK ends an aborted stream quietly; an idle timeout must not pass for a full reply.
        if (attempt.timedOut) throw new AttemptTimeout();
        return acc;
      },
      () => !delivered,
      req.deadline,
    );
    return {
      content: acc.content,
      toolCalls: acc.toolCalls(),
      model: acc.model || params.model,
      usage: toUsage(acc.usage),
      latencyMs: Date.now() - started,
      offline: false,
    };
  }

  /** Vision model; the image travels inline as a `data:` URL. */
  async describeImage(input: DescribeImageInput): Promise<ChatResult> {
    if (this.offline) return offlineImageDescription();
    const url = `data:${input.mimeType};base64,${input.image.toString('base64')}`;
    return this.chat({
      model: this.config.llm.visionModel,
      json: input.json,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: input.prompt },
            { type: 'image_url', image_url: { url } },
          ],
        },
      ],
    });
  }

  /**
   * JSON mode with a tolerant parse (code fences and surrounding prose are ignored); `data` is
   * null when no JSON could be read. OpenAI requires the word "JSON" somewhere in the messages.
   */
  async extractJson(input: ExtractJsonInput): Promise<{ data: unknown; result: ChatResult }> {
    const result = await this.chat({
      model: input.model,
      json: true,
      messages: [
        { role: 'system', content: input.system },
        { role: 'user', content: input.user },
      ],
    });
    return { data: parseJsonLoosely(result.content), result };
  }

  private params(req: ChatRequest): CreateParams {
    const params: CreateParams = {
      model: req.model ?? this.config.llm.model,
      messages: req.messages,
    };
    if (req.tools?.length) {
      params.tools = req.tools.map((tool) => ({
        type: 'function',
        function: { name: tool.name, description: tool.description, parameters: tool.parameters },
      }));
    }
    if (req.temperature !== undefined) params.temperature = req.temperature;
    // max_tokens rather than max_completion_tokens: understood by every OpenAI-compatible server.
    if (req.maxTokens !== undefined) params.max_tokens = req.maxTokens;
    if (req.json) params.response_format = { type: 'json_object' };
    return params;
  }

  private async withRetries<T>(
    operation: string,
    run: (attempt: Attempt) => Promise<T>,
    mayRetry: () => boolean = () => true,
    deadline = Infinity,
  ): Promise<T> {
    try {
      return await this.attempts(operation, run, mayRetry, deadline);
    } catch (err) {
      if (err instanceof LlmError) {
        this.metrics?.observeLlmFailure(operation, err.kind);
        if (err.kind === 'quota') {
          // Every reply fails until someone adds credit: louder than a transient outage.
          this.logger.error(`LLM ${operation}: the account is out of quota (${err.message})`);
        }
      }
      throw err;
    }
  }

  private async attempts<T>(
    operation: string,
    run: (attempt: Attempt) => Promise<T>,
    mayRetry: () => boolean,
    deadline: number,
  ): Promise<T> {
    const maxAttempts = this.config.llm.maxRetries + 1;
    for (let n = 1; ; n++) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.logger.warn(`LLM ${operation}: no time left for attempt ${n}/${maxAttempts}`);
        throw new LlmError('unavailable', 'the LLM did not answer within the time allowed');
      }
      const attempt = new Attempt(Math.min(this.config.llm.timeoutMs, left));
      try {
        return await run(attempt);
      } catch (err) {
        if (err instanceof CallerError) throw err.original;
        const failure = this.classify(err, attempt);
        const willRetry = failure.retryable && n < maxAttempts && mayRetry();
        let waitMs = 0;
        if (willRetry) {
          if (failure.retryAfterMs !== undefined && failure.retryAfterMs > MAX_RETRY_AFTER_MS) {
            this.logger.warn(
              `LLM ${operation} attempt ${n}/${maxAttempts} failed (${failure.summary}); server asks for a retry in ${Math.ceil(failure.retryAfterMs / 1000)} s, giving up`,
            );
            throw new LlmError(
              'unavailable',
              `${failure.error.message}; the server asked to retry after more than ${MAX_RETRY_AFTER_MS / 1000} s`,
              failure.error.status,
            );
          }
          waitMs = failure.retryAfterMs ?? backoffMs(n);
          // A retry that would start past the deadline is not worth the wait.
          if (Date.now() + waitMs >= deadline) {
            this.logger.warn(
              `LLM ${operation} attempt ${n}/${maxAttempts} failed (${failure.summary}); no time left to retry`,
            );
            throw failure.error;
          }
        }
        this.logger.warn(
          `LLM ${operation} attempt ${n}/${maxAttempts} failed (${failure.summary})${
            willRetry ? `; retrying in ${Math.round(waitMs)} ms` : ''
          }`,
        );
        if (!willRetry) throw failure.error;
        await sleep(waitMs);
      } finally {
        attempt.dispose();
      }
    }
  }

  private classify(err: unknown, attempt: Attempt): Failure {
    if (err instanceof LlmError) return { error: err, retryable: false, summary: err.kind };
    if (
      attempt.timedOut ||
      err instanceof AttemptTimeout ||
      err instanceof APIConnectionTimeoutError ||
      err instanceof APIUserAbortError
    ) {
      return {
        error: new LlmError('unavailable', `LLM request timed out after ${attempt.timeoutMs} ms`),
        retryable: true,
        summary: 'timeout',
      };
    }
    if (err instanceof APIConnectionError) {
      return {
        error: new LlmError('unavailable', 'LLM connection failed'),
        retryable: true,
        summary: 'connection error',
      };
    }
    if (err instanceof APIError && typeof err.status === 'number') {
      const status = err.status;
      const code = err.code ?? err.type;
      const summary = `status ${status}${code ? `, ${code}` : ''}`;
      const detail = this.scrub(upstreamMessage(err));
      const message = `LLM request failed with status ${status}${code ? ` (${code})` : ''}${
        detail ? `: ${detail}` : ''
      }`;
      if (
        status === 429 &&
        (err.code === 'insufficient_quota' || err.type === 'insufficient_quota')
      ) {
        return { error: new LlmError('quota', message, status), retryable: false, summary };
      }
      if (status === 408 || status === 409 || status === 429 || status >= 500) {
        return {
          error: new LlmError('unavailable', message, status),
          retryable: true,
          retryAfterMs: retryAfterMs(err.headers),
          summary,
        };
      }
      if (status >= 400) {
        return { error: new LlmError('rejected', message, status), retryable: false, summary };
      }
      return { error: new LlmError('unavailable', message, status), retryable: false, summary };
    }
    // Anything else (a socket closed mid-body, a malformed stream): transient as far as we know.
    const name = err instanceof Error ? err.name : typeof err;
    return {
      error: new LlmError('unavailable', `LLM request failed (${name})`),
      retryable: true,
      summary: name,
    };
  }

  /** Removes the API key (and anything shaped like an OpenAI key, even masked) from a message. */
  private scrub(text: string): string {
    const key = this.config.llm.apiKey;
    let out = key ? text.split(key).join('[redacted]') : text;
    out = out.replace(/\bsk-[\w*.-]{3,}/g, '[redacted]');
    return out.length > MAX_UPSTREAM_MESSAGE_CHARS
      ? `${out.slice(0, MAX_UPSTREAM_MESSAGE_CHARS)}…`
      : out;
  }
}

interface Failure {
  error: LlmError;
  retryable: boolean;
  retryAfterMs?: number;
  /** Status and error code only: what a log line may say about the failure. */
  summary: string;
}

/** One attempt's deadline: aborts the request when `timeoutMs` passes without `touch()`. */
class Attempt {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout;
  timedOut = false;

  constructor(readonly timeoutMs: number) {
    this.timer = this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  touch(): void {
    clearTimeout(this.timer);
    this.timer = this.arm();
  }

  dispose(): void {
    clearTimeout(this.timer);
  }

  private arm(): NodeJS.Timeout {
    return setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, this.timeoutMs);
  }
}

class AttemptTimeout extends Error {}

/** Wraps an exception thrown by the caller's `onDelta`, so it is rethrown untouched. */
class CallerError extends Error {
  constructor(readonly original: unknown) {
    super('onDelta threw');
  }
}

class StreamAccumulator {
  private readonly parts: string[] = [];
  private readonly calls = new Map<number, { id: string; name: string; args: string }>();
  usage: OpenAI.CompletionUsage | undefined;
  model = '';

  get content(): string | null {
    return this.parts.length ? this.parts.join('') : null;
  }

  add(chunk: OpenAI.Chat.ChatCompletionChunk, deliver: (text: string) => void): void {
    if (chunk.model) this.model = chunk.model;
    if (chunk.usage) this.usage = chunk.usage;
    const delta = chunk.choices[0]?.delta;
    if (!delta) return;
    const text = delta.content ? withoutNul(delta.content) : '';
    if (text) {
      this.parts.push(text);
      deliver(text);
    }
    for (const call of delta.tool_calls ?? []) {
      const entry = this.calls.get(call.index) ?? { id: '', name: '', args: '' };
      if (call.id) entry.id = call.id;
      if (call.function?.name) entry.name += call.function.name;
      if (call.function?.arguments) entry.args += call.function.arguments;
      this.calls.set(call.index, entry);
    }
  }

  toolCalls(): LlmToolCall[] {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, call]) => toolCall(call.id, call.name, call.args));
  }
}

function toolCall(id: string, name: string, rawArguments: string): LlmToolCall {
  if (!rawArguments.trim()) return { id, name, arguments: {} };
  try {
    const parsed: unknown = JSON.parse(rawArguments, nulFree);
    if (isPlainObject(parsed)) return { id, name, arguments: parsed };
  } catch {
    // fall through: keep the raw text for the caller to log or repair
  }
  return { id, name, arguments: {}, rawArguments: withoutNul(rawArguments) };
}

function toUsage(usage: OpenAI.CompletionUsage | undefined | null): LlmUsage {
  return {
    promptTokens: usage?.prompt_tokens ?? 0,
    completionTokens: usage?.completion_tokens ?? 0,
    totalTokens: usage?.total_tokens ?? 0,
  };
}

function upstreamMessage(err: APIError): string {
  const body = err.error;
  if (isPlainObject(body) && typeof body.message === 'string') return body.message;
  return '';
}

function backoffMs(attemptNumber: number): number {
  const base = Math.min(BACKOFF_INITIAL_MS * 2 ** (attemptNumber - 1), BACKOFF_MAX_MS);
  return base * (1 - Math.random() * BACKOFF_JITTER);
}

/** `retry-after-ms` (milliseconds) or `Retry-After` (seconds or an HTTP date). */
export function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms) {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const retryAfter = headers?.get('retry-after');
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  return undefined;
}

/** Parses model output as JSON, ignoring ``` fences and prose around the outermost `{...}`. */
export function parseJsonLoosely(text: string | null): unknown {
  if (!text) return null;
  let candidate = text.trim();
  const fenced = /^```[\w-]*\s*\n?([\s\S]*?)\n?\s*```$/.exec(candidate);
  if (fenced) candidate = fenced[1].trim();
  try {
    return JSON.parse(candidate, nulFree);
  } catch {
    const start = candidate.indexOf('{');
    const end = candidate.lastIndexOf('}');
    if (start === -1 || end <= start) return null;
    try {
      return JSON.parse(candidate.slice(start, end + 1), nulFree);
    } catch {
      return null;
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
