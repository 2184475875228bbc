import { createHash } from 'node:crypto';
import {
  FakeChatBody,
  FakeReply,
  lastUserText,
  startFakeOpenAI,
} from '../../test/fake-openai/fake-openai.server';

/**
 * The LLM of `bench:load`: the fake OpenAI server (a real HTTP server) in a process of its own,
 * so its work never delays the load generator's clock. Forked by main.ts with an IPC channel;
 * every answer comes after BENCH_LLM_DELAY_MS (argv[2]).
 *
 * It plays the three calls the product makes under this load:
 * - a reply: "Fake reply to: …" (one round);
 * - a reply to a text containing "remind me": a `schedule_message` tool call due
 *   REMINDER_AFTER_MS later, then a short confirmation (two rounds), so the scheduled-messages
 *   worker has work;
 * - memory extraction (JSON mode): one fact about the speaker out of five per person, so the
 *   first messages create memories and later ones confirm them, as in real chats.
 *
 * IPC: sends `{ type: 'listening', url }`; answers `{ type: 'stats' }` with the calls so far.
 */

const REMINDER_AFTER_MS = 10_000;
const TOPICS = ['hiking', 'jazz', 'cooking', 'chess', 'the ocean'];

interface Stats {
  replies: number;
  toolRounds: number;
  extractions: number;
  other: number;
}

function isExtraction(body: FakeChatBody): boolean {
  const system = body.messages?.find((m) => m.role === 'system')?.content;
  return (
    body.response_format?.type === 'json_object' &&
    typeof system === 'string' &&
    system.startsWith('You extract lasting facts')
  );
}

function respond(body: FakeChatBody, stats: Stats): FakeReply | undefined {
  if (isExtraction(body)) {
    stats.extractions++;
    const text = lastUserText(body.messages ?? []);
    const speaker = /^Speaker: (\S+)/m.exec(text)?.[1] ?? 'speaker';
    // Same person, same few facts: a person's later messages confirm what the first created.
    const topic = TOPICS[createHash('sha1').update(text).digest()[0] % TOPICS.length];
    return {
      content: JSON.stringify({
        facts: [
          {
            about: 'speaker',
            type: 'preference',
            content: `enjoys ${topic} (${speaker.slice(-3)})`,
            confidence: 0.8,
          },
        ],
      }),
    };
  }
  if (body.response_format?.type === 'json_object') {
    stats.other++;
    return undefined;
  }
  const last = body.messages?.at(-1);
  if (last?.role === 'tool') {
    stats.toolRounds++;
    return { content: 'Done: I will remind you.' };
  }
  stats.replies++;
  if (/remind me/i.test(lastUserText(body.messages ?? []))) {
    return {
      toolCalls: [
        {
          name: 'schedule_message',
          arguments: {
            text: 'Time to stretch!',
            send_at: new Date(Date.now() + REMINDER_AFTER_MS).toISOString(),
          },
        },
      ],
    };
  }
  return undefined;
}

async function main(): Promise<void> {
  const delayMs = Number(process.argv[2] ?? 0);
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new Error('delay must be ≥ 0 ms');
  const fake = await startFakeOpenAI({ defaultDelayMs: delayMs });
  const stats: Stats = { replies: 0, toolRounds: 0, extractions: 0, other: 0 };
  fake.respondWith((body) => respond(body, stats));
  // The fake keeps every request for assertions; a benchmark only needs the counts.
  setInterval(() => (fake.requests.length = 0), 1000).unref();

  process.on('message', (message: { type?: string }) => {
    if (message.type === 'stats') process.send?.({ type: 'stats', ...stats });
  });
  const stop = () => void fake.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
  process.send?.({ type: 'listening', url: fake.url });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench load fake LLM: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
