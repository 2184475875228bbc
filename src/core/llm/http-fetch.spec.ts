import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { httpFetch } from './http-fetch';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe('httpFetch (the openai SDK transport)', () => {
  let server: Server;
  let base: string;
  let handler: Handler;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handler(req, res, Buffer.concat(chunks).toString()));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the method, headers and body, and returns status, headers and JSON', async () => {
    handler = (req, res, body) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-request-id', 'req_1');
      res.statusCode = 201;
      res.end(
        JSON.stringify({
          method: req.method,
          auth: req.headers.authorization,
          body,
          len: req.headers['content-length'],
        }),
      );
    };
    const response = await httpFetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: new Headers({ authorization: 'Bearer k', 'content-type': 'application/json' }),
      body: '{"é":1}',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe('req_1');
    expect(await response.json()).toEqual({
      method: 'POST',
      auth: 'Bearer k',
      body: '{"é":1}',
      len: String(Buffer.byteLength('{"é":1}')),
    });
  });

  it('decompresses a body the server gzipped', async () => {
    handler = (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('content-encoding', 'gzip');
      res.end(gzipSync('{"ok":true}'));
    };
    expect(await (await httpFetch(`${base}/`)).json()).toEqual({ ok: true });
  });

  it('hands an event stream over while it arrives', async () => {
    let finish: () => void = () => undefined;
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      finish = () => res.end('data: two\n\n');
    };
    const response = await httpFetch(`${base}/`);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe('data: one\n\n');
    finish();
    const rest: string[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      rest.push(Buffer.from(r.value).toString());
    }
    expect(rest.join('')).toBe('data: two\n\n');
  });

  it('rejects with an AbortError when aborted before the answer or during its body', async () => {
    handler = () => undefined; // never answers
    const early = new AbortController();
    const pending = httpFetch(`${base}/`, { signal: early.signal });
    setTimeout(() => early.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
    };
    const late = new AbortController();
    const midBody = httpFetch(`${base}/`, { signal: late.signal });
    setTimeout(() => late.abort(), 50);
    await expect(midBody).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('fails when the server closes the connection before the body is complete', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 10);
    };
    await expect(httpFetch(`${base}/`)).rejects.toThrow();
  });

  it('answers 204 with no body, and refuses bodies it cannot send', async () => {
    handler = (_req, res) => {
      res.statusCode = 204;
      res.end();
    };
    const empty = await httpFetch(`${base}/`);
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');
    await expect(
      httpFetch(`${base}/`, { method: 'POST', body: new ReadableStream() }),
    ).rejects.toThrow('string or byte bodies only');
  });
});
