import { LlmClient } from '../src/core/llm/llm.client';
import { LlmError } from '../src/core/llm/llm.errors';
import { FakeOpenAI } from './fake-openai/fake-openai.server';

import { newRedisPrefix, RunningApi, startTestSystem, TestSystem } from './helpers/test-app';

describe('the app reaches the LLM through the openai SDK (fake OpenAI server over HTTP)', () => {
  let sys: TestSystem;
  let fake: FakeOpenAI;
  let api: RunningApi;
  const prefix = newRedisPrefix();

  beforeAll(async () => {
    sys = await startTestSystem({ prefix });
    ({ fake, api } = sys);
  });

  afterAll(async () => {
    await sys?.close();
  });

  beforeEach(() => fake.reset());

  it('reports the configured model in /health', async () => {
    const res = await api.request('GET', '/health');
    expect(res.body).toMatchObject({
      checks: { llm: { status: 'up', mode: 'openai', model: 'gpt-4o-mini' } },
    });
  });

  it('sends chat requests with the key and model, and returns the fake reply', async () => {
    fake.reply({ content: 'hello from the fake' });
    const result = await api.app
      .get(LlmClient)
      .chat({ messages: [{ role: 'user', content: 'hi' }] });
    expect(result.content).toBe('hello from the fake');
    const request = fake.lastChatRequest()!;
    expect(request.headers.authorization).toBe('Bearer sk-test-openai-key-not-real');
    expect(request.body.model).toBe('gpt-4o-mini');
  });

  it('drops NUL characters from streamed replies, tool arguments and JSON replies', async () => {
    const llm = api.app.get(LlmClient);
    fake.reply({ content: 'one\u0000 two' });
    const deltas: string[] = [];
    const streamed = await llm.streamChat({ messages: [{ role: 'user', content: 'hi' }] }, (d) =>
      deltas.push(d),
    );
    expect(streamed.content).toBe('one two');
    expect(deltas.join('')).toBe('one two');

    fake.reply({ toolCalls: [{ name: 'remember', arguments: { content: 'a\u0000b' } }] });
    const withTool = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] });
    expect(withTool.toolCalls[0].arguments).toEqual({ content: 'ab' });

    fake.reply({ content: JSON.stringify({ facts: ['x\u0000y'] }) });
    const { data } = await llm.extractJson({ system: 'Reply in JSON', user: 'hi' });
    expect(data).toEqual({ facts: ['xy'] });
  });

  it('turns an outage into LlmError after the configured retries, without leaking the key', async () => {
    fake.fail({ status: 503, times: Infinity });
    const error = await api.app
      .get(LlmClient)
      .chat({ messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect((error as LlmError).kind).toBe('unavailable');
    expect(fake.chatRequests()).toHaveLength(2); // OPENAI_MAX_RETRIES=1 in tests
    expect(api.logs.text()).not.toContain('sk-test-openai-key-not-real');
  });
});
