import { withDatabase } from './helpers/database';

export default async function globalTeardown(): Promise<void> {
  const server = process.env.ARCHETY_TEST_DATABASE_SERVER;
  const template = process.env.ARCHETY_TEST_TEMPLATE;
  if (server && template) {
    await withDatabase(server, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`),
    );
  }
  const embedded = (globalThis as { __embeddedPostgres?: { stop(): Promise<void> } })
    .__embeddedPostgres;
  await embedded?.stop();
}
