import http, { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import https from 'node:https';

/**
 * The `fetch` the openai SDK is given: node:http(s) on a keep-alive agent instead of the global
 * fetch (undici). Every reply costs an LLM round trip, and undici's fetch — the WHATWG request,
 * header and stream machinery around each call — was the largest single cost in the API's CPU
 * profile. This implements only what the SDK uses: a string URL, method, headers, a string or
 * byte body, an AbortSignal; and a response with status, headers, text()/json() and a body the
 * SDK reads as an async iterable of bytes (its streaming path accepts one).
 */

export type MinimalFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Bounded: a stuck peer cannot pile up sockets without end; OpenAI allows many in flight. */
const MAX_SOCKETS = 256;

export function createNodeHttpFetch(): { fetch: MinimalFetch; close(): void } {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
  };

  const fetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise((resolve, reject) => {
      // The SDK passes its URL as a string; a Request object carries more than this fetch reads.
      if (typeof input !== 'string' && !(input instanceof URL)) {
        return reject(new TypeError('node-http-fetch takes a URL, not a Request'));
      }
      const url = String(input);
      const target = new URL(url);
      const agent = agents[target.protocol as keyof typeof agents];
      if (!agent) return reject(new TypeError(`unsupported protocol ${target.protocol}`));
      const signal = init.signal ?? undefined;
      if (signal?.aborted) return reject(abortError());

      const body = requestBody(init.body);
      const headers = plainHeaders(init.headers);
      if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const request = (target.protocol === 'https:' ? https : http).request(target, {
        method: init.method ?? 'GET',
        headers,
        agent,
      });
      let response: IncomingMessage | undefined;
      // Both sides, so a body being read fails with the AbortError too, not a connection reset.
      const onAbort = () => {
        const err = abortError();
        response?.destroy(err);
        request.destroy(err);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      request.once('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      });
      request.once('response', (incoming) => {
        response = incoming;
        // The signal still bounds the body (a stream that stalls, a reply that never ends).
        incoming.once('close', () => signal?.removeEventListener('abort', onAbort));
        resolve(toResponse(url, incoming));
      });
      request.end(body);
    });

  return {
    fetch,
    close: () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

/** The SDK recognises an abort (its timeout, our attempt timeout) by the error's name. */
function abortError(): Error {
  const err = new Error('The operation was aborted');
  err.name = 'AbortError';
  return err;
}

function requestBody(body: RequestInit['body']): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // Multipart uploads (files) and streamed bodies are not something this backend sends.
  throw new TypeError('node-http-fetch sends string and byte bodies only');
}

function plainHeaders(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const entries =
    headers instanceof Headers || Array.isArray(headers)
      ? (headers as Iterable<[string, string]>)
      : Object.entries(headers as Record<string, string>);
  for (const [name, value] of entries) out[name.toLowerCase()] = String(value);
  return out;
}

function toResponse(url: string, incoming: IncomingMessage): Response {
  const status = incoming.statusCode ?? 0;
  const headers = new ResponseHeaders(incoming.headers);
  let consumed: Promise<string> | undefined;
  const text = () =>
    (consumed ??= new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      incoming.once('error', reject);
      incoming.once('close', () => {
        if (!incoming.complete) reject(incoming.errored ?? abortError());
      });
    }));
  const response = {
    status,
    statusText: incoming.statusMessage ?? '',
    ok: status >= 200 && status < 300,
    url,
    headers,
    body: incoming,
    text,
    json: async () => JSON.parse(await text()) as unknown,
  };
  return response as unknown as Response;
}

/**
 * The response headers as the SDK reads them (`get`, `has`, `entries`, iteration), over node's
 * already parsed, lower-cased ones: building a WHATWG Headers per reply cost more than the SDK's
 * few reads of it. Repeated headers read as one comma-joined value, as in fetch.
 */
class ResponseHeaders {
  readonly #raw: IncomingHttpHeaders;

  constructor(raw: IncomingHttpHeaders) {
    this.#raw = raw;
  }

  get(name: string): string | null {
    const value = this.#raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.#raw[name.toLowerCase()] !== undefined;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.#raw).sort()) yield [name, this.get(name)!];
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  forEach(callback: (value: string, name: string, headers: this) => void): void {
    for (const [name, value] of this.entries()) callback(value, name, this);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}
