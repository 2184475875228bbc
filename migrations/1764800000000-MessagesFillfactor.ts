import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every inbound message is inserted and, a moment later, updated (answered, with the response
 * retries get). With full pages that update writes a new tuple elsewhere and a new entry in every
 * index of messages, the GIN search index included. Space left free on each page lets the update
 * stay on the page as a heap-only tuple (HOT): no index is touched, since no indexed column
 * changes. Rows written before this keep their pages until they are rewritten.
 */
export class MessagesFillfactor1764800000000 implements MigrationInterface {
  name = 'MessagesFillfactor1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages SET (fillfactor = 80)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages RESET (fillfactor)`);
  }
}
