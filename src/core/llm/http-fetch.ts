import { Agent as HttpAgent, IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/**
 * The `fetch` the openai SDK uses here: node:http(s) with keep-alive agents instead of Node's
 * built-in fetch (undici with web streams). Measured against the fake OpenAI server, a chat
 * completion cost ~0.9 ms of CPU through the built-in fetch and ~0.6 ms through this, and every
 * message makes two (the reply and its memory extraction).
 *
 * A JSON answer is read whole before the Response is built (the SDK reads it whole anyway); a
 * `text/event-stream` answer is handed over as a stream, so replies can be relayed while they
 * arrive. The abort signal (the SDK's timeout, our per-attempt deadline) destroys the request at
 * any point, which rejects with an `AbortError` as fetch does.
 */

/** Idle keep-alive sockets are closed after this, as undici does, before a server drops them. */
const IDLE_SOCKET_MS = 4_000;

const agents = {
  http: new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' }),
  https: new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' }),
};

export function httpFetch(
  input: string | URL | Request,
  init: RequestInit = {},
): Promise<Response> {
  const url = new URL(input instanceof Request ? input.url : input);
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') {
    return Promise.reject(new TypeError(`httpFetch supports http and https, not ${url.protocol}`));
  }
  const body = requestBody(init.body);
  if (body === undefined) {
    return Promise.reject(new TypeError('httpFetch sends string or byte bodies only'));
  }
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => (headers[name] = value));
  if (body) headers['content-length'] = String(body.length);
  const signal = init.signal ?? undefined;

  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const request = (secure ? httpsRequest : httpRequest)(url, {
      method: init.method ?? 'GET',
      headers,
      agent: secure ? agents.https : agents.http,
      signal,
    });
    request.once('error', (err) => reject(signal?.aborted ? abortError() : err));
    request.once('response', (response) => {
      const decoded = decode(response);
      const responseHeaders = headersOf(response);
      const init = { status: response.statusCode ?? 0, statusText: response.statusMessage };
      const empty = init.status === 204 || init.status === 304 || init.status < 200;
      if (empty) {
        response.resume();
        return resolve(new Response(null, { ...init, headers: responseHeaders }));
      }
      if (/^text\/event-stream/i.test(response.headers['content-type'] ?? '')) {
        const stream = Readable.toWeb(decoded) as ReadableStream<Uint8Array>;
        return resolve(new Response(stream, { ...init, headers: responseHeaders }));
      }
      const chunks: Buffer[] = [];
      decoded.on('data', (chunk: Buffer) => chunks.push(chunk));
      decoded.once('end', () =>
        resolve(new Response(Buffer.concat(chunks), { ...init, headers: responseHeaders })),
      );
      decoded.once('error', (err) => reject(signal?.aborted ? abortError() : err));
      // A socket closed mid-body without an error (the server went away) is a failure too.
      response.once('close', () => {
        if (!response.complete) reject(signal?.aborted ? abortError() : truncated());
      });
    });
    request.end(body || undefined);
  });
}

/** undefined: a body this transport does not send (streams, forms: the SDK's uploads). */
function requestBody(body: RequestInit['body']): Buffer | null | undefined {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.length);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  return undefined;
}

function headersOf(response: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  return headers;
}

/** The body as sent, decompressed when the server compressed it anyway (nothing asks it to). */
function decode(response: IncomingMessage): Readable {
  const encoding = (response.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : undefined;
  if (!decoder) return response;
  response.once('error', (err) => decoder.destroy(err));
  return response.pipe(decoder);
}

function abortError(): Error {
  const err = new Error('The operation was aborted');
  err.name = 'AbortError';
  return err;
}

function truncated(): Error {
  return new Error('The connection closed before the response was complete');
}
