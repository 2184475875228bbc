import { MigrationInterface, QueryRunner } from 'typeorm';

/** The app's email pattern (handleKind in src/common/validation/handle.validator.ts). */
const EMAIL = `'^[^\\s@]{1,64}@[^\\s@]{1,255}\\.[^\\s@]{2,}$'`;

/**
 * Email handles are compared in lower case from now on (normalHandle): an Apple ID that
 * iMessage relayed as `Sam@iCloud.com` and the `sam@icloud.com` someone linked are one person.
 * Handles seen before in another case are rewritten to lower case, with the primary handle of
 * their person (users.handle, whose deferred foreign key is checked at commit).
 *
 * A spelling is left as it was when its lower-case form is taken already (by another person, or
 * by the same person through another spelling): merging two people needs their consent (a linked
 * handle), not a migration. New messages from that address reach the lower-case owner; the
 * other spelling keeps its history.
 */
export class LowerCaseEmailHandles1764900000000 implements MigrationInterface {
  name = 'LowerCaseEmailHandles1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      WITH spelled AS (
        SELECT handle, lower(handle) AS normal,
               row_number() OVER (PARTITION BY lower(handle) ORDER BY created_at, handle) AS nth
        FROM user_handles
        WHERE handle ~ ${EMAIL} AND handle <> lower(handle)
      ), renamed AS (
        UPDATE user_handles h SET handle = s.normal
        FROM spelled s
        WHERE h.handle = s.handle AND s.nth = 1
          AND NOT EXISTS (SELECT 1 FROM user_handles taken WHERE taken.handle = s.normal)
        RETURNING h.handle, h.user_id
      )
      UPDATE users u SET handle = r.handle
      FROM renamed r
      WHERE u.id = r.user_id AND lower(u.handle) = r.handle AND u.handle <> r.handle`);
  }

  async down(): Promise<void> {
    // The original spellings are not kept: lower case is as good a form of an address.
  }
}
