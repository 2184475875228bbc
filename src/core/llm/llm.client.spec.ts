import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createServer } from 'node:net';
import { type FakeOpenAI, startFakeOpenAI } from '../../../test/fake-openai/fake-openai.server';
import { loadConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { LlmClient, parseJsonLoosely, retryAfterMs } from './llm.client';
import { LlmError } from './llm.errors';
import { LlmModule } from './llm.module';

const API_KEY = 'sk-test-secret-key';

function makeClient(baseUrl: string, env: Record<string, string | undefined> = {}): LlmClient {
  return new LlmClient(
    loadConfig({
      NODE_ENV: 'test',
      JWT_SECRET: 'x'.repeat(40),
      OPENAI_API_KEY: API_KEY,
      OPENAI_BASE_URL: baseUrl,
      OPENAI_TIMEOUT_MS: '2000',
      OPENAI_MAX_RETRIES: '2',
      ...env,
    }),
  );
}

async function llmError(promise: Promise<unknown>): Promise<LlmError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof LlmError) return err;
    throw err;
  }
  throw new Error('expected an LlmError');
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - started };
}

const user = (content: string) => [{ role: 'user' as const, content }];

describe('LlmClient against the fake OpenAI server', () => {
  let fake: FakeOpenAI;
  let llm: LlmClient;
  let warn: jest.SpyInstance;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    llm = makeClient(fake.url);
  });

  beforeEach(() => {
    fake.reset();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    // Whatever happened, no log line carries the key.
    for (const call of warn.mock.calls) expect(JSON.stringify(call)).not.toContain(API_KEY);
    warn.mockRestore();
  });

  afterAll(async () => {
    await fake.close();
  });

  it('returns content, usage and model for a plain chat', async () => {
    const result = await llm.chat({
      messages: [
        { role: 'system', content: 'You are kind.' },
        { role: 'user', content: 'hello there' },
      ],
      temperature: 0.3,
      maxTokens: 50,
    });

    expect(result).toMatchObject({
      content: 'Fake reply to: hello there',
      toolCalls: [],
      model: 'gpt-4o-mini',
      usage: { promptTokens: 5, completionTokens: 5, totalTokens: 10 },
      offline: false,
    });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    const req = fake.lastChatRequest();
    expect(req?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(req?.body).toMatchObject({ model: 'gpt-4o-mini', temperature: 0.3, max_tokens: 50 });
    expect(req?.body.response_format).toBeUndefined();
    expect(req?.body.tools).toBeUndefined();
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('sends tools as function tools and parses the tool calls', async () => {
    fake.reply({ toolCalls: [{ name: 'remember', arguments: { fact: 'likes tea', weight: 2 } }] });
    const parameters = { type: 'object', properties: { fact: { type: 'string' } } };

    const result = await llm.chat({
      messages: user('I like tea'),
      tools: [{ name: 'remember', description: 'Store a fact', parameters }],
      model: 'gpt-custom',
    });

    expect(result.content).toBeNull();
    expect(result.toolCalls).toEqual([
      { id: expect.any(String), name: 'remember', arguments: { fact: 'likes tea', weight: 2 } },
    ]);
    expect(result.model).toBe('gpt-custom');
    expect(fake.lastChatRequest()?.body.tools).toEqual([
      { type: 'function', function: { name: 'remember', description: 'Store a fact', parameters } },
    ]);
  });

  it('extractJson uses JSON mode and parses fenced output', async () => {
    fake.reply({ content: '```json\n{"mood": "happy", "items": [1, 2]}\n```' });

    const { data, result } = await llm.extractJson({ system: 'Answer in JSON.', user: 'How?' });

    expect(data).toEqual({ mood: 'happy', items: [1, 2] });
    expect(result.offline).toBe(false);
    const body = fake.lastChatRequest()?.body;
    expect(body?.response_format).toEqual({ type: 'json_object' });
    expect(body?.messages).toEqual([
      { role: 'system', content: 'Answer in JSON.' },
      { role: 'user', content: 'How?' },
    ]);
  });

  it('extractJson returns {} from the default JSON reply and null for prose', async () => {
    await expect(llm.extractJson({ system: 'JSON please', user: 'x' })).resolves.toMatchObject({
      data: {},
    });
    fake.reply({ content: 'Sorry, I cannot do that.' });
    await expect(llm.extractJson({ system: 'JSON please', user: 'x' })).resolves.toMatchObject({
      data: null,
    });
  });

  it('sends the image as a base64 image_url part to the vision model', async () => {
    const image = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x10]);
    fake.reply({ content: '{"summary":"a cat"}' });

    const result = await llm.describeImage({
      image,
      mimeType: 'image/png',
      prompt: 'Describe this photo as JSON.',
      json: true,
    });

    expect(result.content).toBe('{"summary":"a cat"}');
    const body = fake.lastChatRequest()?.body;
    expect(body?.model).toBe('gpt-4o');
    expect(body?.response_format).toEqual({ type: 'json_object' });
    expect(body?.messages?.[0].content).toEqual([
      { type: 'text', text: 'Describe this photo as JSON.' },
      {
        type: 'image_url',
        image_url: { url: `data:image/png;base64,${image.toString('base64')}` },
      },
    ]);
  });

  it('streams content deltas in order and returns the final result with usage', async () => {
    const text = 'Hey you, this is a streamed reply in several pieces.';
    fake.reply({ content: text });
    const deltas: string[] = [];

    const result = await llm.streamChat({ messages: user('stream please') }, (d) => deltas.push(d));

    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(text);
    expect(result).toMatchObject({ content: text, toolCalls: [], model: 'gpt-4o-mini' });
    expect(result.usage).toEqual({ promptTokens: 2, completionTokens: 10, totalTokens: 12 });
    expect(fake.lastChatRequest()?.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('collects streamed tool calls', async () => {
    fake.reply({
      content: 'Noted.',
      toolCalls: [
        { name: 'remember', arguments: { fact: 'has a dog named Rex' } },
        { name: 'schedule', arguments: { at: '2030-01-01T09:00:00Z' } },
      ],
    });

    const result = await llm.streamChat({ messages: user('hi') }, () => undefined);

    expect(result.content).toBe('Noted.');
    expect(result.toolCalls).toEqual([
      { id: expect.any(String), name: 'remember', arguments: { fact: 'has a dog named Rex' } },
      { id: expect.any(String), name: 'schedule', arguments: { at: '2030-01-01T09:00:00Z' } },
    ]);
  });

  it('retries a 500 and then succeeds', async () => {
    fake.fail({ status: 500 });

    const result = await llm.chat({ messages: user('again') });

    expect(result.content).toBe('Fake reply to: again');
    expect(fake.chatRequests()).toHaveLength(2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/attempt 1\/3 failed \(status 500/);
  });

  it('retries a stream that failed before anything was streamed', async () => {
    fake.fail({ status: 502 });
    const deltas: string[] = [];

    const result = await llm.streamChat({ messages: user('retry me') }, (d) => deltas.push(d));

    expect(result.content).toBe('Fake reply to: retry me');
    expect(deltas.join('')).toBe('Fake reply to: retry me');
    expect(fake.chatRequests()).toHaveLength(2);
  });

  it('honours retry-after on a 429 and then succeeds', async () => {
    fake.fail({
      status: 429,
      headers: { 'retry-after': '1' },
      body: {
        error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' },
      },
    });

    const { value, ms } = await timed(() => llm.chat({ messages: user('patience') }));

    expect(value.content).toBe('Fake reply to: patience');
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(2000);
    const [first, second] = fake.chatRequests();
    expect(second.time - first.time).toBeGreaterThanOrEqual(950);
  });

  it('gives up at once when retry-after asks for more than 30 s', async () => {
    fake.fail({ status: 429, headers: { 'retry-after': '120' }, times: 5 });

    const { value: err, ms } = await timed(() => llmError(llm.chat({ messages: user('x') })));

    expect(err).toMatchObject({ kind: 'unavailable', status: 429 });
    expect(ms).toBeLessThan(1000);
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('does not retry 429 insufficient_quota', async () => {
    fake.fail({
      status: 429,
      times: 5,
      body: {
        error: {
          code: 'insufficient_quota',
          type: 'insufficient_quota',
          message: 'You exceeded your current quota, please check your plan and billing details.',
        },
      },
    });

    const err = await llmError(llm.chat({ messages: user('x') }));

    expect(err).toBeInstanceOf(LlmError);
    expect(err).toMatchObject({ kind: 'quota', status: 429 });
    expect(err.message).toContain('exceeded your current quota');
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('fails with unavailable after maxRetries + 1 attempts of a persistent 503', async () => {
    fake.fail({ status: 503, times: Infinity });

    const err = await llmError(llm.chat({ messages: user('x') }));

    expect(err).toMatchObject({ kind: 'unavailable', status: 503 });
    expect(fake.chatRequests()).toHaveLength(3);
    expect(warn).toHaveBeenCalledTimes(3);
    expect(String(warn.mock.calls[2][0])).toMatch(/attempt 3\/3 failed \(status 503/);
  });

  it('does not retry other 4xx and keeps the API key out of the message', async () => {
    fake.fail({
      status: 401,
      body: {
        error: {
          message: `Incorrect API key provided: ${API_KEY}. Also sk-test-****-key.`,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      },
    });

    const err = await llmError(llm.chat({ messages: user('x') }));

    expect(err).toMatchObject({ kind: 'rejected', status: 401 });
    expect(err.message).toContain('Incorrect API key provided');
    expect(err.message).not.toContain(API_KEY);
    expect(err.message).not.toContain('sk-test');
    expect(err.stack).not.toContain(API_KEY);
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('times out a hung request at the configured timeout', async () => {
    const quick = makeClient(fake.url, { OPENAI_TIMEOUT_MS: '500', OPENAI_MAX_RETRIES: '0' });
    fake.hang();

    const { value: err, ms } = await timed(() => llmError(quick.chat({ messages: user('x') })));

    expect(err.kind).toBe('unavailable');
    expect(err.message).toMatch(/timed out after 500 ms/);
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(1500);
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('cuts attempts and skips retries that would run past the deadline', async () => {
    const quick = makeClient(fake.url, { OPENAI_TIMEOUT_MS: '2000', OPENAI_MAX_RETRIES: '2' });
    fake.hang({ times: 3 });

    const { value: err, ms } = await timed(() =>
      llmError(quick.chat({ messages: user('x'), deadline: Date.now() + 600 })),
    );

    expect(err.kind).toBe('unavailable');
    expect(err.message).toMatch(/timed out after \d+ ms/);
    expect(ms).toBeGreaterThanOrEqual(550);
    expect(ms).toBeLessThan(1500);
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('makes no request once the deadline has passed', async () => {
    const err = await llmError(llm.chat({ messages: user('x'), deadline: Date.now() - 1 }));

    expect(err.kind).toBe('unavailable');
    expect(err.message).toMatch(/within the time allowed/);
    expect(fake.chatRequests()).toHaveLength(0);
  });

  it('retries after a timeout', async () => {
    const quick = makeClient(fake.url, { OPENAI_TIMEOUT_MS: '500', OPENAI_MAX_RETRIES: '1' });
    fake.hang();

    const result = await quick.chat({ messages: user('second time lucky') });

    expect(result.content).toBe('Fake reply to: second time lucky');
    expect(fake.chatRequests()).toHaveLength(2);
  });

  it('times out a stream that stalls before its headers', async () => {
    const quick = makeClient(fake.url, { OPENAI_TIMEOUT_MS: '500', OPENAI_MAX_RETRIES: '0' });
    fake.hang();

    const err = await llmError(quick.streamChat({ messages: user('x') }, () => undefined));

    expect(err.kind).toBe('unavailable');
  });

  it('does not retry a stream that stalls after content was delivered', async () => {
    const quick = makeClient(fake.url, { OPENAI_TIMEOUT_MS: '500', OPENAI_MAX_RETRIES: '2' });
    fake.reply({ content: 'one two three four', stallAfterChunks: 3 }); // role + 2 tokens
    const deltas: string[] = [];

    const err = await llmError(quick.streamChat({ messages: user('x') }, (d) => deltas.push(d)));

    expect(err.kind).toBe('unavailable');
    expect(err.message).toMatch(/timed out/);
    expect(deltas).toEqual(['one ', 'two ']);
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('retries a stream that stalls before any content', async () => {
    const quick = makeClient(fake.url, { OPENAI_TIMEOUT_MS: '500', OPENAI_MAX_RETRIES: '1' });
    fake.reply({ content: 'lost', stallAfterChunks: 1 }); // the role chunk only
    const deltas: string[] = [];

    const result = await quick.streamChat({ messages: user('take two') }, (d) => deltas.push(d));

    expect(result.content).toBe('Fake reply to: take two');
    expect(deltas.join('')).toBe('Fake reply to: take two');
    expect(fake.chatRequests()).toHaveLength(2);
  });

  it('lets a slow but steady stream run longer than the timeout', async () => {
    const quick = makeClient(fake.url, { OPENAI_TIMEOUT_MS: '500', OPENAI_MAX_RETRIES: '0' });
    fake.reply({ content: 'one two three', chunkDelayMs: 150 });

    const { value, ms } = await timed(() =>
      quick.streamChat({ messages: user('x') }, () => undefined),
    );

    expect(value.content).toBe('one two three');
    expect(ms).toBeGreaterThan(500);
  });

  it('rethrows an exception from onDelta untouched', async () => {
    const boom = new Error('consumer failed');
    await expect(
      llm.streamChat({ messages: user('x') }, () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('reports a refused connection as unavailable', async () => {
    const port = await closedPort();
    const nowhere = makeClient(`http://127.0.0.1:${port}/v1`, { OPENAI_MAX_RETRIES: '0' });

    const err = await llmError(nowhere.chat({ messages: user('x') }));

    expect(err.kind).toBe('unavailable');
    expect(err.message).not.toContain(API_KEY);
  });

  it('status() reports the mode and models without secrets', () => {
    const status = llm.status();
    expect(status).toEqual({ mode: 'openai', model: 'gpt-4o-mini', visionModel: 'gpt-4o' });
    expect(JSON.stringify(status)).not.toContain(API_KEY);
    expect(llm.offline).toBe(false);
    llm.onModuleInit();
    expect(warn).not.toHaveBeenCalled();
  });

  describe('offline mode (no OPENAI_API_KEY)', () => {
    let offline: LlmClient;

    beforeAll(() => {
      offline = makeClient(fake.url, { OPENAI_API_KEY: undefined });
    });

    it('answers deterministically without touching the network', async () => {
      const messages = user('Hello, are you there?');
      const first = await offline.chat({ messages });
      const second = await offline.chat({ messages });

      expect(first).toEqual(second);
      expect(first).toEqual({
        content: '(offline responder) I got your message: "Hello, are you there?"',
        toolCalls: [],
        model: 'offline-responder',
        usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
        latencyMs: 0,
        offline: true,
      });

      const deltas: string[] = [];
      const streamed = await offline.streamChat({ messages }, (d) => deltas.push(d));
      expect(deltas.join('')).toBe(streamed.content);

      const { data } = await offline.extractJson({ system: 'JSON', user: 'x' });
      expect(data).toEqual({});

      const image = await offline.describeImage({
        image: Buffer.from('x'),
        mimeType: 'image/jpeg',
        prompt: 'Describe',
      });
      expect(JSON.parse(image.content ?? '')).toEqual({
        summary: expect.stringContaining('not analysed'),
        activities: [],
        people: [],
        places: [],
        preferences: [],
      });

      expect(fake.requests).toHaveLength(0);
    });

    it('truncates the echoed text to 200 characters', async () => {
      const result = await offline.chat({ messages: user('a'.repeat(500)) });
      expect(result.content).toBe(`(offline responder) I got your message: "${'a'.repeat(200)}…"`);
    });

    it('reports offline status and warns once at start-up', () => {
      expect(offline.offline).toBe(true);
      expect(offline.status()).toEqual({
        mode: 'offline',
        model: 'gpt-4o-mini',
        visionModel: 'gpt-4o',
      });
      offline.onModuleInit();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/OPENAI_API_KEY is unset.*offline responder/);
    });

    it('is provided by LlmModule and warns once when the module starts', async () => {
      const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40) });
      const moduleRef = await Test.createTestingModule({
        imports: [ConfigModule.forRoot(config), LlmModule],
      }).compile();
      await moduleRef.init();

      const client = moduleRef.get(LlmClient);
      expect(client.status().mode).toBe('offline');
      expect(warn).toHaveBeenCalledTimes(1);
      await moduleRef.close();
    });
  });
});

describe('parseJsonLoosely', () => {
  it.each([
    ['{"a":1}', { a: 1 }],
    ['```json\n{"a":1}\n```', { a: 1 }],
    ['```\n{"a":1}\n```', { a: 1 }],
    ['Sure! Here it is: {"a":{"b":2}} Hope that helps.', { a: { b: 2 } }],
    ['[1,2]', [1, 2]],
    ['no json here', null],
    ['{broken', null],
    ['', null],
  ])('%j', (input, expected) => {
    expect(parseJsonLoosely(input)).toEqual(expected);
  });

  it('handles null', () => {
    expect(parseJsonLoosely(null)).toBeNull();
  });
});

describe('retryAfterMs', () => {
  it('reads retry-after-ms, seconds and HTTP dates', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    const date = new Date(Date.now() + 10_000).toUTCString();
    const fromDate = retryAfterMs(new Headers({ 'retry-after': date }));
    expect(fromDate).toBeGreaterThan(8_000);
    expect(fromDate).toBeLessThanOrEqual(10_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
