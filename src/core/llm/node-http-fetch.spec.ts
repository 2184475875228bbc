import http, { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { createNodeHttpFetch } from './node-http-fetch';

describe('createNodeHttpFetch', () => {
  let server: http.Server;
  let base: string;
  let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void;
  const client = createNodeHttpFetch();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => handler(req, res, body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends method, headers and body, and reads status, headers and JSON', async () => {
    handler = (req, res, body) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-request-id', 'req_1');
      res.statusCode = 201;
      res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization, body }));
    };
    const response = await client.fetch(`${base}/v1/x`, {
      method: 'POST',
      headers: new Headers({ Authorization: 'Bearer k', 'content-type': 'application/json' }),
      body: '{"a":"é"}',
    });
    expect(response.status).toBe(201);
    expect(response.ok).toBe(true);
    expect(response.headers.get('x-request-id')).toBe('req_1');
    expect(await response.json()).toEqual({ method: 'POST', auth: 'Bearer k', body: '{"a":"é"}' });
  });

  it('reads response headers case-insensitively, repeated ones joined, in name order', async () => {
    handler = (_req, res) => {
      res.setHeader('X-Request-Id', 'req_2');
      res.setHeader('x-multi', ['a', 'b']);
      res.end('{}');
    };
    const { headers } = await client.fetch(`${base}/v1/y`);
    expect(headers.get('X-REQUEST-ID')).toBe('req_2');
    expect(headers.get('x-multi')).toBe('a, b');
    expect(headers.get('x-missing')).toBeNull();
    expect(headers.has('x-multi')).toBe(true);
    const names = [...headers].map(([name]) => name);
    expect(names).toEqual([...names].sort());
    expect([...headers.entries()]).toContainEqual(['x-request-id', 'req_2']);
  });

  it('rejects with an AbortError when the signal fires before the response', async () => {
    handler = () => undefined; // never answers
    const controller = new AbortController();
    const pending = client.fetch(`${base}/hang`, { method: 'POST', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('fails the body read when the signal fires mid-body', async () => {
    handler = (_req, res) => {
      res.setHeader('content-type', 'text/event-stream');
      res.write('data: first\n\n'); // and never ends
    };
    const controller = new AbortController();
    const response = await client.fetch(`${base}/stream`, { signal: controller.signal });
    const text = response.text();
    controller.abort();
    await expect(text).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('refuses a Request object (the SDK passes a URL string)', async () => {
    await expect(client.fetch(new Request(`${base}/x`))).rejects.toThrow(TypeError);
  });
});
