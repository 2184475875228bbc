/**
 * How a handle becomes a person, shared by every statement that meets handles (a message's
 * participants, a photo's sender, a sign-in): the handle is looked up in user_handles, and a
 * person is created for each unknown one (users row + its handle row, in the same statement).
 */

/**
 * CTEs for a statement's WITH list, resolving the handles of the `text[]` parameter `param`.
 * They end in `people(id, handle, name, time_zone)`: one row per handle found or created, with
 * the handle asked for (not the person's primary handle). Fewer rows than handles means a
 * concurrent statement created one of them after this statement's snapshot: run it again.
 */
export function peopleByHandleCtes(param: string): string {
  return `known_handles AS (
      SELECT h.handle, h.user_id FROM user_handles h WHERE h.handle = ANY(${param}::text[])
    ), new_people AS (
      INSERT INTO users (handle)
      SELECT x FROM unnest(${param}::text[]) x WHERE x NOT IN (SELECT handle FROM known_handles)
      ON CONFLICT (handle) DO NOTHING
      RETURNING id, handle, name, time_zone
    ), new_handles AS (
      INSERT INTO user_handles (handle, user_id) SELECT handle, id FROM new_people
      RETURNING handle
    ), people AS (
      SELECT id, handle, name, time_zone FROM new_people
      UNION ALL
      -- LATERAL ... LIMIT 1 keeps this a primary-key lookup per handle: as a plain join, the
      -- generic plan (which guesses 10 handles) hashes the whole users table while it is small.
      SELECT u.id, k.handle, u.name, u.time_zone
        FROM known_handles k
        CROSS JOIN LATERAL (SELECT id, name, time_zone FROM users WHERE id = k.user_id LIMIT 1) u
    )`;
}

/**
 * The errors of a statement that raced a concurrent change of the people it resolved; running it
 * again sees that change:
 * - it created a person for a handle which, meanwhile, was linked to someone else (user_handles'
 *   key decided);
 * - a person, room or assistant instance it read was deleted before its writes referred to them
 *   (a merge moved the handle to the person it was linked to, or an erasure): the foreign key
 *   check, which waits for the deleting transaction, refuses the write.
 */
export function isHandleRace(err: unknown): boolean {
  const e = err as { code?: unknown; constraint?: unknown; detail?: unknown } | null;
  if (e?.code === '23505') return e.constraint === 'user_handles_pkey';
  return (
    e?.code === '23503' &&
    /is not present in table "(users|rooms|assistant_instances)"/.test(String(e.detail ?? ''))
  );
}

/**
 * Runs a statement built on peopleByHandleCtes until it resolves every handle: `once` answers
 * undefined when a concurrent first sight hid a handle. Three runs always suffice (the second
 * sees every row committed before it started).
 */
export async function resolvingHandles<T>(
  what: string,
  once: () => Promise<T | undefined>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await once();
      if (result !== undefined) return result;
    } catch (err) {
      if (!isHandleRace(err) || attempt >= 3) throw err;
    }
    if (attempt >= 3) throw new Error(`could not resolve the people of ${what}`);
  }
}
