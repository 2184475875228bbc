import { HttpResult, httpRequest } from './helpers/http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jpeg, jpegOfSize } from './fixtures/images';
import { createTestDatabase, TestDatabase } from './helpers/database';
import { query } from './helpers/db-query';
import {
  clearRedisPrefix,
  newRedisPrefix,
  RunningApi,
  startApi,
  testConfig,
} from './helpers/test-app';

/**
 * The bad-input sweep: every HTTP endpoint of the running app — read from its own OpenAPI
 * document, and checked against Fastify's route table so that an endpoint missing from the
 * document cannot escape — gets malformed JSON, wrong types, huge strings, deeply nested values,
 * unicode edge cases (U+FFFC, bidi marks, emoji, lone surrogates, NUL), oversized bodies and
 * malformed path and query values, with valid credentials for its scheme (so validation, not
 * authentication, answers) and without. Every answer must be a 4xx in the API's JSON error
 * shape; afterwards the app still serves, and no table changed by a single byte.
 *
 * Valid unicode is valid input (an emoji in a message is a message): it travels in bodies made
 * invalid otherwise (an unknown field), so a 4xx is still the right answer. NUL is refused
 * wherever it appears, and so is nesting deeper than any real client sends.
 */

const SECRETS = {
  RELAY_WEBHOOK_SECRET: 'relay-secret-bad-input-0123456789',
  EDGE_SECRET: 'edge-secret-bad-input-0123456789',
  ADMIN_API_KEY: 'admin-key-bad-input-0123456789abcdef',
};
const PHOTO_MAX_BYTES = 64 * 1024;
const BODY_LIMIT = 1024 * 1024;
/** /v1/chat allows 10 turns a minute per client; the sweep sends it ~150 cases. */
const CHAT_CLIENTS = 18;

// ---- the API's own description of itself ----------------------------------------------------

interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  example?: unknown;
  minimum?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  allOf?: Schema[];
  nullable?: boolean;
}

interface Operation {
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  parameters?: { name: string; in: 'path' | 'query' | 'header'; schema?: Schema }[];
}

interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

interface Route {
  method: string;
  /** As in the OpenAPI document: `/admin/clients/{id}`. */
  path: string;
  schemes: string[];
  json?: Schema;
  multipart?: Schema;
  pathParams: string[];
  queryParams: (Schema & { name: string })[];
  headerParams: string[];
}

/** Routes Fastify serves that are not API endpoints: the documentation itself. */
const UNDOCUMENTED = ['GET /docs', 'GET /docs/{file}', 'GET /docs-json', 'GET /docs-yaml'];

function routesOf(doc: OpenApi): Route[] {
  const resolve = (schema: Schema | undefined): Schema | undefined => {
    if (!schema) return undefined;
    if (schema.$ref) return resolve(doc.components.schemas[schema.$ref.split('/').pop()!]);
    if (schema.allOf) {
      return schema.allOf.map(resolve).reduce<Schema>(
        (all, part) => ({
          type: 'object',
          properties: { ...all.properties, ...part?.properties },
          required: [...(all.required ?? []), ...(part?.required ?? [])],
        }),
        {},
      );
    }
    return schema;
  };
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const params = op.parameters ?? [];
      const content = op.requestBody?.content ?? {};
      routes.push({
        method: method.toUpperCase(),
        path,
        schemes: (op.security ?? []).flatMap((s) => Object.keys(s)),
        json: resolve(content['application/json']?.schema),
        multipart: resolve(content['multipart/form-data']?.schema),
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params
          .filter((p) => p.in === 'query')
          .map((p) => ({ ...resolve(p.schema), name: p.name })),
        headerParams: params.filter((p) => p.in === 'header').map((p) => p.name),
      });
    }
  }
  return routes;
}

/** `METHOD /path/{param}` of every route in Fastify's table (HEAD aside). */
function fastifyRoutes(printed: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of printed.split('\n')) {
    const match = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1].length / 4;
    stack.length = depth;
    stack.push(match[2]);
    for (const method of (match[3] ?? '').split(', ').filter(Boolean)) {
      if (method === 'HEAD') continue;
      out.push(`${method} ${stack.join('').replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return out;
}

// ---- values -------------------------------------------------------------------------------

/** A value of the schema's type, from its example when it has one (not necessarily valid). */
function plausible(schema: Schema | undefined, depth = 0): unknown {
  if (!schema) return 'sweep';
  if (schema.example !== undefined) return schema.example;
  if (schema.enum?.length) return schema.enum[0];
  switch (schema.type) {
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return depth > 2 ? [] : [plausible(schema.items, depth + 1)];
    case 'object':
      return depth > 2
        ? {}
        : Object.fromEntries(
            Object.entries(schema.properties ?? {}).map(([k, v]) => [k, plausible(v, depth + 1)]),
          );
    default:
      return schema.format === 'uuid' ? randomUUID() : 'sweep';
  }
}

/** Values of every other JSON type than the field's. */
function wrongValues(schema: Schema): unknown[] {
  const all: Record<string, unknown[]> = {
    string: [12345, true, ['a'], { a: 1 }],
    number: ['12', 'abc', true, [1], { n: 1 }],
    integer: ['12', 1.5, true, [1], { n: 1 }],
    boolean: ['true', 1, 0, [true], { b: true }],
    array: ['a', 1, { 0: 'a' }, true, [null, 1, 'a', {}]],
    object: ['a', 1, true, ['a'], [{}]],
  };
  return all[schema.type ?? 'string'] ?? all.string;
}

/** `{"a":{"a":…}}`, `depth` levels, built as text (no recursion anywhere on our side). */
function nestedObject(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}
function nestedArray(depth: number): string {
  return '['.repeat(depth) + '1' + ']'.repeat(depth);
}

const UNICODE: Record<string, string> = {
  'U+FFFC': 'photo \uFFFC caption',
  'RTL marks': '\u200Fשלום\u202E gnp.exe\u202C \u200E',
  emoji: '😀👨‍👩‍👧‍👦🏳️‍🌈 e\u0301',
  'zero width': 'a\u200B\u200C\u200Db\uFEFF',
  'lone surrogates': 'x\uD800y\uDC00z',
  'line separators': 'a\u2028b\u2029c\u0085',
  'control characters': 'a\u0001\u001F\u007Fb',
  fullwidth: 'ｓｗｅｅｐ＋１５５５',
};
const NUL = 'a\u0000b';

/** Every UTF-8 byte percent-encoded (encodeURIComponent refuses lone surrogates). */
function percentEncoded(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

// ---- the sweep ------------------------------------------------------------------------------

interface Case {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  contentType?: string;
}

describe('bad input: every endpoint answers 4xx JSON, stays up, writes nothing', () => {
  let db: TestDatabase;
  let api: RunningApi;
  let dataDir: string;
  const prefix = newRedisPrefix();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);

  let routes: Route[];
  const clientTokens: string[] = [];
  let userToken: string;
  let chatCalls = 0;
  let ip = 0;
  let logLinesBefore = 0;
  let tablesBefore: Record<string, string>;
  let filesBefore: number;

  /** A distinct client address per request: per-IP limits must not answer for validation. */
  const nextIp = () => `10.${(++ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}`;

  const credentials = (schemes: string[], path: string): Record<string, string> => {
    const headers: Record<string, string> = {};
    for (const scheme of schemes) {
      if (scheme === 'relay-bearer')
        headers.authorization = `Bearer ${SECRETS.RELAY_WEBHOOK_SECRET}`;
      if (scheme === 'edge-token') {
        headers.authorization = `Bearer ${SECRETS.EDGE_SECRET}`;
        headers['x-edge-agent-id'] = 'sweep-agent';
      }
      if (scheme === 'admin') headers.authorization = `Bearer ${SECRETS.ADMIN_API_KEY}`;
      if (scheme === 'user-jwt') headers.authorization = `Bearer ${userToken}`;
      if (scheme === 'client-jwt') {
        // /v1/chat allows 10 a minute per client: spread the cases over several clients.
        const n = path === '/v1/chat' ? Math.floor(chatCalls++ / 9) : 0;
        headers.authorization = `Bearer ${clientTokens[n % clientTokens.length]}`;
      }
    }
    return headers;
  };

  const send = (c: Case): Promise<HttpResult> =>
    httpRequest(api.url, c.method, c.path, {
      headers: {
        'x-forwarded-for': nextIp(),
        ...(c.contentType ? { 'content-type': c.contentType } : {}),
        ...c.headers,
      },
      rawBody: c.body,
    });

  /** Why an answer is not a proper refusal, or undefined when it is. */
  const problemWith = (res: HttpResult, authenticated: boolean): string | undefined => {
    if (res.status < 400 || res.status >= 500) return `status ${res.status}`;
    if (authenticated && [401, 403, 429].includes(res.status)) {
      return `status ${res.status}: credentials or a rate limit answered, not validation`;
    }
    const body = res.body as { statusCode?: unknown; error?: unknown; message?: unknown };
    if (!(res.headers.get('content-type') ?? '').includes('application/json')) {
      return `content-type ${res.headers.get('content-type')}`;
    }
    if (
      typeof body !== 'object' ||
      body === null ||
      body.statusCode !== res.status ||
      typeof body.error !== 'string' ||
      typeof body.message !== 'string'
    ) {
      return 'not the JSON error shape';
    }
    return undefined;
  };

  const tableHashes = async (): Promise<Record<string, string>> => {
    const tables = await query<{ name: string }>(
      db.url,
      `SELECT table_name AS name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    const out: Record<string, string> = {};
    for (const { name } of tables) {
      const [row] = await query<{ n: string; h: string }>(
        db.url,
        `SELECT count(*) AS n, md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), '')) AS h
         FROM "${name}" t`,
      );
      out[name] = `${row.n} rows, ${row.h}`;
    }
    return out;
  };

  const countFiles = (dir: string): number => {
    let n = 0;
    for (const entry of readdirSync(dir)) {
      const full = join(dir, entry);
      n += statSync(full).isDirectory() ? countFiles(full) : 1;
    }
    return n;
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'archety-bad-input-'));
    api = await startApi(
      testConfig(
        { databaseUrl: db.url, redisPrefix: prefix },
        {
          ...SECRETS,
          DATA_DIR: dataDir,
          PHOTO_MAX_BYTES: String(PHOTO_MAX_BYTES),
          // X-Forwarded-For is believed, so each case comes from an address of its own.
          TRUST_PROXY: 'true',
          RATE_LIMIT_ORCHESTRATOR_PER_MIN: '100000',
        },
      ),
    );
    const admin = { authorization: `Bearer ${SECRETS.ADMIN_API_KEY}` };

    // Credentials of every scheme, set up before the tables are fingerprinted.
    for (let i = 0; i < CHAT_CLIENTS; i++) {
      const created = await api.request<{ api_key: string }>('POST', '/admin/clients', {
        headers: admin,
        body: { name: `sweep-${i}` },
      });
      expect(created.status).toBe(201);
      const token = await api.request<{ access_token: string }>('POST', '/auth/token', {
        headers: { 'x-forwarded-for': nextIp() },
        body: { api_key: created.body.api_key },
      });
      expect(token.status).toBe(200);
      clientTokens.push(token.body.access_token);
    }
    const phone = '+15557770101';
    expect((await api.request('POST', '/auth/verify/start', { body: { phone } })).status).toBe(202);
    const code = /SMS to \+15557770101: Your Archety code is (\d{6})/.exec(api.logs.text())![1];
    const signedIn = await api.request<{ access_token: string }>('POST', '/auth/verify/confirm', {
      body: { phone, code },
    });
    expect(signedIn.status).toBe(200);
    userToken = signedIn.body.access_token;

    const doc = await api.request<OpenApi>('GET', '/docs-json');
    routes = routesOf(doc.body);
    tablesBefore = await tableHashes();
    filesBefore = countFiles(dataDir);
    logLinesBefore = api.logs.lines.length;
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await api?.close();
    await clearRedisPrefix(prefix);
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('knows every route Fastify serves from the OpenAPI document', () => {
    const documented = new Set(routes.map((r) => `${r.method} ${r.path}`));
    const printed = (
      api.app.getHttpAdapter().getInstance() as unknown as {
        printRoutes(o: { commonPrefix: boolean }): string;
      }
    ).printRoutes({ commonPrefix: false });
    const served = fastifyRoutes(printed);
    expect(served.length).toBeGreaterThan(30);
    expect(served.filter((r) => !documented.has(r) && !UNDOCUMENTED.includes(r))).toEqual([]);
    // Bodies go to these: the sweep below must have something to chew on.
    expect(routes.filter((r) => r.json).length).toBeGreaterThan(15);
    expect(routes.filter((r) => r.multipart).length).toBe(2);
  });

  /** The route's path with its parameters filled: a well-formed id that matches nothing. */
  const pathOf = (route: Route, override?: Record<string, string>) =>
    route.path.replace(/\{(\w+)\}/g, (_, name: string) => override?.[name] ?? randomUUID());

  function jsonCases(route: Route): Case[] {
    const path = pathOf(route);
    const cases: Case[] = [];
    const json = (name: string, body: string) =>
      cases.push({ name, method: route.method, path, body, contentType: 'application/json' });

    // Malformed JSON and bodies that are not objects.
    for (const [name, body] of Object.entries({
      truncated: '{"a":',
      'trailing comma': '{"a":1,}',
      'single quotes': "{'a':1}",
      'two documents': '{"a":1}{"b":2}',
      'raw NUL byte': '{"a":"x\u0000y"}',
      'invalid UTF-8': Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
      empty: '',
      array: '[]',
      'array of objects': '[{}]',
      string: '"text"',
      number: '42',
      null: 'null',
      'prototype pollution': '{"__proto__":{"isAdmin":true}}',
      'constructor pollution': '{"constructor":{"prototype":{"isAdmin":true}}}',
    })) {
      cases.push({ name, method: route.method, path, body, contentType: 'application/json' });
    }
    json('deep object (10,000 levels)', nestedObject(10_000));
    json('deep object (100,000 levels)', nestedObject(100_000));
    json('deep array (10,000 levels)', nestedArray(10_000));
    json('NUL in a key', JSON.stringify({ ['k\u0000']: 1 }));
    json('oversized (1.5 MiB)', JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT + BODY_LIMIT / 2) }));
    cases.push({
      name: 'text/plain',
      method: route.method,
      path,
      body: '{"a":1}',
      contentType: 'text/plain',
    });
    cases.push({
      name: 'form-urlencoded',
      method: route.method,
      path,
      body: 'a=1&b=2',
      contentType: 'application/x-www-form-urlencoded',
    });

    // Field by field, from a body of plausible values.
    const schema = route.json;
    if (!schema?.properties) return cases;
    const base = plausible(schema) as Record<string, unknown>;
    const withField = (field: string, value: unknown, extra: object = {}) =>
      JSON.stringify({ ...base, [field]: value, ...extra });
    for (const [field, fieldSchema] of Object.entries(schema.properties)) {
      for (const wrong of wrongValues(fieldSchema)) {
        json(`${field} = ${JSON.stringify(wrong)}`, withField(field, wrong));
      }
      json(`${field} = 100,000 characters`, withField(field, 'x'.repeat(100_000)));
      json(`${field} = array of 10,000`, withField(field, Array(10_000).fill('a')));
      json(`${field} with NUL`, withField(field, NUL));
      json(
        `${field} = deep object`,
        JSON.stringify({ ...base, [field]: '__DEEP__' }).replace(
          '"__DEEP__"',
          nestedObject(10_000),
        ),
      );
      if (fieldSchema.type === 'number' || fieldSchema.type === 'integer') {
        // Past 2^53 a number is not the integer that was sent; 1e309 is Infinity to JSON.parse.
        for (const raw of ['1e309', '-1e309', '9007199254740993']) {
          json(
            `${field} = ${raw}`,
            JSON.stringify({ ...base, [field]: '__RAW__' }).replace('"__RAW__"', raw),
          );
        }
      }
      for (const [name, text] of Object.entries(UNICODE)) {
        // Valid text: the unknown field is what makes the body invalid.
        json(`${field} with ${name}`, withField(field, text, { __sweep: true }));
      }
    }
    for (const [name, text] of Object.entries(UNICODE)) {
      json(`key with ${name}`, JSON.stringify({ ...base, [text]: 1 }));
    }
    json(
      'deep value in an unknown field',
      JSON.stringify({ ...base, __sweep: '__DEEP__' }).replace('"__DEEP__"', nestedObject(10_000)),
    );
    json(
      'many unknown fields',
      JSON.stringify({
        ...base,
        ...Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`f${i}`, i])),
      }),
    );
    return cases;
  }

  /** A multipart body, built by hand so that broken ones can be built too. */
  function multipart(
    parts: { name: string; value: string | Buffer; filename?: string; type?: string }[],
    boundary = `sweep${randomUUID().replace(/-/g, '')}`,
  ): { body: Buffer; contentType: string } {
    const chunks: Buffer[] = [];
    for (const part of parts) {
      const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ''}`;
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: ${disposition}\r\n` +
            (part.type ? `Content-Type: ${part.type}\r\n` : '') +
            '\r\n',
        ),
        Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value),
        Buffer.from('\r\n'),
      );
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    return {
      body: Buffer.concat(chunks),
      contentType: `multipart/form-data; boundary=${boundary}`,
    };
  }

  function multipartCases(route: Route): Case[] {
    const relay = route.path === '/photos/upload';
    // The relay names the sender and chat in the query; the edge in text parts.
    const query = (q: Record<string, string>) =>
      `?${new URLSearchParams({ user_phone: '+15557770102', chat_guid: '+15557770102', ...q })}`;
    const path = relay ? `${route.path}${query({})}` : route.path;
    const fields = (over: Record<string, string> = {}) =>
      Object.entries(
        relay
          ? over
          : {
              user_phone: '+15557770102',
              edge_agent_id: 'sweep-agent',
              chat_guid: '+15557770102',
              ...over,
            },
      ).map(([name, value]) => ({ name, value }));
    const file = (value: Buffer = jpeg(randomUUID())) => ({
      name: 'file',
      value,
      filename: 'IMG.jpg',
      type: 'image/jpeg',
    });
    const cases: Case[] = [];
    const add = (name: string, form: { body: Buffer; contentType: string }, p = path) =>
      cases.push({
        name,
        method: route.method,
        path: p,
        body: form.body,
        contentType: form.contentType,
      });

    cases.push({
      name: 'JSON instead of multipart',
      method: route.method,
      path,
      body: '{"file":"x"}',
      contentType: 'application/json',
    });
    cases.push({
      name: 'no boundary',
      method: route.method,
      path,
      body: 'garbage',
      contentType: 'multipart/form-data',
    });
    cases.push({
      name: 'wrong boundary',
      method: route.method,
      path,
      body: multipart([file()]).body,
      contentType: 'multipart/form-data; boundary=nope',
    });
    cases.push({
      name: 'truncated',
      method: route.method,
      path,
      body: multipart([...fields(), file()]).body.subarray(0, 200),
      contentType: multipart([]).contentType,
    });
    add('no file', multipart(fields()));
    add('not an image', multipart([...fields(), file(Buffer.from('just text, not a photo'))]));
    add('file over the limit', multipart([...fields(), file(jpegOfSize(PHOTO_MAX_BYTES + 1024))]));
    add('file under another name', multipart([...fields(), { ...file(), name: 'photo' }]));
    add('two files', multipart([...fields(), file(), file()]));
    add('field of 100,000 bytes', multipart([...fields({ caption: 'x'.repeat(100_000) }), file()]));
    add(
      'a field sent twice',
      multipart([
        ...fields(),
        { name: 'caption', value: 'a' },
        { name: 'caption', value: 'b' },
        file(),
      ]),
    );
    add(
      'many fields',
      multipart([...Array.from({ length: 40 }, (_, i) => ({ name: `f${i}`, value: 'x' })), file()]),
    );
    if (relay) {
      const badQueries: Record<string, string>[] = [
        { user_phone: NUL },
        { chat_guid: NUL },
        { caption: NUL },
        { user_phone: 'x'.repeat(8000) },
        { is_group: 'maybe' },
      ];
      for (const bad of badQueries) {
        add(
          `query ${JSON.stringify(bad).slice(0, 60)}`,
          multipart([file()]),
          `${route.path}${query(bad)}`,
        );
      }
      for (const [name, text] of Object.entries(UNICODE)) {
        add(
          `query caption with ${name}`,
          multipart([{ ...file(), name: 'photo' }]),
          `${route.path}${query({ caption: text })}`,
        );
      }
    } else {
      for (const field of [
        'user_phone',
        'edge_agent_id',
        'chat_guid',
        'caption',
        'participants',
        'context',
        'attachment_guid',
      ]) {
        add(`${field} with NUL`, multipart([...fields({ [field]: NUL }), file()]));
      }
      for (const [field, value] of Object.entries({
        participants: '[' + '['.repeat(10_000) + ']'.repeat(10_000) + ']',
        context: nestedObject(10_000),
        is_group: 'maybe',
        user_phone: 'not a handle',
      })) {
        add(
          `${field} = ${value.slice(0, 20)}…`,
          multipart([...fields({ [field]: value }), file()]),
        );
      }
      for (const [name, text] of Object.entries(UNICODE)) {
        // Valid text in a form without its file.
        add(`caption with ${name}`, multipart(fields({ caption: text, user_phone: text })));
      }
    }
    return cases;
  }

  function paramCases(route: Route): Case[] {
    const cases: Case[] = [];
    const bad: Record<string, string> = {
      NUL: '%00',
      'not an id': 'not-a-uuid',
      '2,000 characters': 'x'.repeat(2000),
      emoji: '%F0%9F%98%80',
      'RTL override': '%E2%80%AEdi%E2%80%8F',
      'U+FFFC': '%EF%BF%BC',
      traversal: '..%2F..%2Fetc%2Fpasswd',
      'invalid UTF-8': '%C0%AF',
      'broken escape': '%E0%A4%A',
    };
    for (const param of route.pathParams) {
      for (const [name, value] of Object.entries(bad)) {
        cases.push({
          name: `path ${param}: ${name}`,
          method: route.method,
          path: pathOf(route, { [param]: value }),
          ...(route.json ? { body: '{"__sweep":true}', contentType: 'application/json' } : {}),
        });
      }
    }
    for (const param of route.queryParams) {
      // A query value is always text: a free-text parameter (a search) has no wrong type.
      const numeric = param.type === 'number' || param.type === 'integer';
      const values: Record<string, string> = {
        NUL: '%00',
        '8,000 characters': 'x'.repeat(8000),
        ...(numeric ? { 'wrong type': 'abc', negative: '-1', huge: '1e309', fraction: '1.5' } : {}),
        twice: `1&${param.name}=2`,
        ...Object.fromEntries(
          Object.entries(UNICODE).map(([k, v]) => [k, `${percentEncoded(v)}&__sweep=1`]),
        ),
      };
      for (const [name, value] of Object.entries(values)) {
        cases.push({
          name: `query ${param.name}: ${name}`,
          method: route.method,
          path: `${pathOf(route)}?${param.name}=${value}`,
        });
      }
    }
    // NUL and junk in a query string no route declares.
    cases.push({
      name: 'undeclared query with NUL',
      method: route.method,
      path: `${pathOf(route)}?q=%00&x=${'%E2%80%AE'}%00`,
    });
    for (const header of route.headerParams.filter((h) => h === 'Idempotency-Key')) {
      cases.push({
        name: `${header}: 300 characters`,
        method: route.method,
        path: pathOf(route),
        headers: { [header.toLowerCase()]: 'k'.repeat(300) },
        body: JSON.stringify(plausible(route.json)),
        contentType: 'application/json',
      });
    }
    return cases;
  }

  /** The cases of a route that declares no body: only those refused before any handler runs. */
  function bodilessCases(route: Route): Case[] {
    const path = pathOf(route);
    return [
      {
        name: 'malformed JSON',
        method: route.method,
        path,
        body: '{"a":',
        contentType: 'application/json',
      },
      {
        name: 'NUL in JSON',
        method: route.method,
        path,
        body: JSON.stringify({ a: NUL }),
        contentType: 'application/json',
      },
      {
        name: 'deep JSON',
        method: route.method,
        path,
        body: nestedObject(10_000),
        contentType: 'application/json',
      },
      {
        name: 'oversized',
        method: route.method,
        path,
        body: JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT + 1) }),
        contentType: 'application/json',
      },
    ];
  }

  it('refuses every bad input with a 4xx in the JSON error shape', async () => {
    const problems: string[] = [];
    let sent = 0;
    for (const route of routes) {
      const cases: Case[] = [];
      if (route.json) cases.push(...jsonCases(route));
      else if (route.multipart) cases.push(...multipartCases(route));
      else if (route.method !== 'GET') cases.push(...bodilessCases(route));
      cases.push(...paramCases(route));

      const authenticated = route.schemes.length > 0;
      for (const c of cases) {
        const res = await send({
          ...c,
          headers: { ...credentials(route.schemes, route.path), ...c.headers },
        });
        sent++;
        const problem = problemWith(res, authenticated);
        if (problem)
          problems.push(
            `${c.method} ${route.path} [${c.name}]: ${problem} ${res.text.slice(0, 160)}`,
          );
      }
      // Without credentials: a sample of the same cases, refused all the same.
      if (authenticated) {
        for (const c of cases.filter((_, i) => i % 7 === 0)) {
          const res = await send(c);
          sent++;
          const problem = problemWith(res, false);
          if (problem) {
            problems.push(
              `${c.method} ${route.path} [${c.name}, no credentials]: ${problem} ${res.text.slice(0, 160)}`,
            );
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(2000);
    expect(problems).toEqual([]);
  });

  it('is still up and serving, logged no error, and wrote nothing', async () => {
    const health = await api.request('GET', '/health');
    expect(health.status).toBe(200);
    expect(unhandled).toEqual([]);
    const errors = api.logs.lines
      .slice(logLinesBefore)
      .filter((line) => /"level":(50|60)/.test(line))
      .map((line) => line.slice(0, 300));
    expect(errors).toEqual([]);
    expect(await tableHashes()).toEqual(tablesBefore);
    expect(countFiles(dataDir)).toBe(filesBefore);

    // And it still does its job.
    const sender = '+15557770103';
    const ok = await api.request('POST', '/orchestrator/message', {
      headers: { authorization: `Bearer ${SECRETS.RELAY_WEBHOOK_SECRET}` },
      body: {
        chat_guid: `iMessage;-;${sender}`,
        mode: 'direct',
        sender,
        text: 'still there? 😀 \u200F',
        timestamp: Math.floor(Date.now() / 1000),
        participants: [sender],
      },
    });
    expect(ok.status).toBe(200);
  });
});
