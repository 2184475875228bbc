import { startFakeOpenAI } from './fake-openai.server';

/**
 * Standalone fake OpenAI server for benchmarks and multi-process tests. There is no ts-node in
 * the tree, so compile it first (or load it through ts-jest), e.g.:
 *   npx tsc test/fake-openai/main.ts --outDir /tmp/fake-openai --module commonjs --target es2022 \
 *     --types node --skipLibCheck
 *   FAKE_OPENAI_PORT=4010 FAKE_OPENAI_DELAY_MS=50 node /tmp/fake-openai/main.js
 * Prints one JSON line `{"url": "http://127.0.0.1:<port>/v1"}` once listening; stops on SIGTERM.
 */
async function main(): Promise<void> {
  const port = Number(process.env.FAKE_OPENAI_PORT ?? 0);
  const defaultDelayMs = Number(process.env.FAKE_OPENAI_DELAY_MS ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error('FAKE_OPENAI_PORT must be an integer between 0 and 65535');
  }
  if (!Number.isFinite(defaultDelayMs) || defaultDelayMs < 0) {
    throw new Error('FAKE_OPENAI_DELAY_MS must be a non-negative number');
  }
  const fake = await startFakeOpenAI({ port, defaultDelayMs });
  process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
  const stop = (): void => {
    void fake.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`fake-openai: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
