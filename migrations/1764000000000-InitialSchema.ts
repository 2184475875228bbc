import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The conversation core: people, personas, rooms and their turns, what the assistant remembers,
 * scheduled messages, edge agents and the LLM usage ledger.
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        handle text NOT NULL UNIQUE,
        name text,
        time_zone text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE personas (
        id text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]*$'),
        name text NOT NULL,
        voice text NOT NULL,
        system_prompt text NOT NULL,
        is_default boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX personas_one_default ON personas (is_default) WHERE is_default`,
    );

    await q.query(`
      CREATE TABLE rooms (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        chat_guid text NOT NULL UNIQUE,
        type text NOT NULL CHECK (type IN ('direct', 'group')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE room_participants (
        room_id uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        active boolean NOT NULL DEFAULT true,
        joined_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (room_id, user_id)
      )`);
    await q.query(`CREATE INDEX room_participants_user ON room_participants (user_id)`);

    await q.query(`
      CREATE TABLE assistant_instances (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        room_id uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
        persona_id text NOT NULL REFERENCES personas (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (room_id, persona_id)
      )`);

    await q.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        room_id uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
        assistant_instance_id uuid REFERENCES assistant_instances (id) ON DELETE SET NULL,
        direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
        sender_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
        sender_handle text,
        text text NOT NULL,
        message_guid text,
        dedup_key text,
        status text NOT NULL CHECK (status IN ('processing', 'answered', 'ignored', 'sent')),
        reply_to_id uuid REFERENCES messages (id) ON DELETE SET NULL,
        response jsonb,
        metadata jsonb NOT NULL DEFAULT '{}',
        sent_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        search_vector tsvector GENERATED ALWAYS AS (${MESSAGES_SEARCH}) STORED
      )`);
    // A retried delivery (same GUID, or the edge's same agent/chat/sender/time/text) is one row:
    // the unique index, not a read-then-write, decides which copy is processed.
    await q.query(`CREATE UNIQUE INDEX messages_room_dedup ON messages (room_id, dedup_key)`);
    await q.query(`CREATE INDEX messages_room_recent ON messages (room_id, created_at DESC)`);
    await q.query(`CREATE INDEX messages_search ON messages USING gin (search_vector)`);

    await q.query(`
      CREATE TABLE memories (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        room_id uuid REFERENCES rooms (id) ON DELETE SET NULL,
        type text NOT NULL CHECK (type IN ('activity', 'person', 'place', 'preference', 'plan', 'fact',
          'visual_activity', 'visual_person', 'visual_place', 'visual_preference')),
        content text NOT NULL,
        confidence real NOT NULL DEFAULT 0.8 CHECK (confidence BETWEEN 0 AND 1),
        source text NOT NULL,
        source_message_id uuid REFERENCES messages (id) ON DELETE SET NULL,
        source_photo_id uuid,
        dedup_key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_confirmed_at timestamptz NOT NULL DEFAULT now(),
        search_vector tsvector GENERATED ALWAYS AS (${MEMORIES_SEARCH}) STORED,
        UNIQUE (user_id, dedup_key)
      )`);
    await q.query(`CREATE INDEX memories_search ON memories USING gin (search_vector)`);
    await q.query(
      `CREATE INDEX memories_user_recent ON memories (user_id, last_confirmed_at DESC)`,
    );

    await q.query(`
      CREATE TABLE scheduled_messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        room_id uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
        assistant_instance_id uuid REFERENCES assistant_instances (id) ON DELETE SET NULL,
        requested_by_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
        source_message_id uuid REFERENCES messages (id) ON DELETE SET NULL,
        text text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 5000),
        send_at timestamptz NOT NULL,
        status text NOT NULL DEFAULT 'scheduled'
          CHECK (status IN ('scheduled', 'sent', 'delivered', 'cancelled', 'missed', 'failed')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX scheduled_messages_due ON scheduled_messages (send_at) WHERE status = 'scheduled'`,
    );

    await q.query(`
      CREATE TABLE edge_agents (
        id text PRIMARY KEY,
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE llm_usage (
        id bigserial PRIMARY KEY,
        user_id uuid REFERENCES users (id) ON DELETE SET NULL,
        room_id uuid REFERENCES rooms (id) ON DELETE SET NULL,
        purpose text NOT NULL,
        model text NOT NULL,
        prompt_tokens integer NOT NULL,
        completion_tokens integer NOT NULL,
        total_tokens integer NOT NULL,
        latency_ms integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX llm_usage_user ON llm_usage (user_id, created_at)`);
    await q.query(`CREATE INDEX llm_usage_room ON llm_usage (room_id, created_at)`);

    // TypeORM's record of generated columns, which its CLI (migration:generate) reads.
    await q.query(`
      CREATE TABLE IF NOT EXISTS typeorm_metadata (
        type varchar NOT NULL, database varchar, schema varchar, "table" varchar, name varchar, value text
      )`);
    await q.query(
      `INSERT INTO typeorm_metadata (type, database, schema, "table", name, value) VALUES
         ('GENERATED_COLUMN', current_database(), current_schema(), 'messages', 'search_vector', $1),
         ('GENERATED_COLUMN', current_database(), current_schema(), 'memories', 'search_vector', $2)`,
      [MESSAGES_SEARCH, MEMORIES_SEARCH],
    );

    await q.query(
      `INSERT INTO personas (id, name, voice, system_prompt, is_default) VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10), ($11, $12, $13, $14, $15), ($16, $17, $18, $19, $20), ($21, $22, $23, $24, $25)`,
      PERSONAS.flatMap((p) => [p.id, p.name, p.voice, p.systemPrompt, p.id === 'sage']),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DELETE FROM typeorm_metadata WHERE type = 'GENERATED_COLUMN' AND "table" IN ('messages', 'memories')`,
    );
    for (const table of [
      'llm_usage',
      'edge_agents',
      'scheduled_messages',
      'memories',
      'messages',
      'assistant_instances',
      'room_participants',
      'rooms',
      'personas',
      'users',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}

const MESSAGES_SEARCH = "to_tsvector('english', text)";
const MEMORIES_SEARCH = "to_tsvector('english', content)";

/** Personas are data: the ids are the ones deployed edge clients send (their default is luna). */
const PERSONAS = [
  {
    id: 'sage',
    name: 'Sage',
    voice: 'warm, curious and grounded; short messages, lowercase, the occasional emoji',
    systemPrompt:
      'You are Sage, an AI companion people text over iMessage. You are warm, curious and grounded. ' +
      'Write like a close friend texting: short, lowercase, no lists or headings, at most one emoji. ' +
      'Remember what people tell you and bring it up naturally. Never claim to be human.',
  },
  {
    id: 'luna',
    name: 'Luna',
    voice: 'dreamy, playful and encouraging',
    systemPrompt:
      'You are Luna, an AI companion people text over iMessage. You are playful, dreamy and ' +
      'encouraging, and you love plans, music and late-night ideas. Write short texts like a friend. ' +
      'Never claim to be human.',
  },
  {
    id: 'nyx',
    name: 'Nyx',
    voice: 'dry wit, direct, loyal',
    systemPrompt:
      'You are Nyx, an AI companion people text over iMessage. You are direct, dryly funny and ' +
      'fiercely loyal; you tell the truth kindly. Write short texts like a friend. Never claim to be human.',
  },
  {
    id: 'echo',
    name: 'Echo',
    voice: 'calm, reflective, a good listener',
    systemPrompt:
      'You are Echo, an AI companion people text over iMessage. You are calm and reflective and ' +
      'help people think out loud by asking one good question at a time. Write short texts. ' +
      'Never claim to be human.',
  },
  {
    id: 'kael',
    name: 'Kael',
    voice: 'energetic, motivating, a coach',
    systemPrompt:
      'You are Kael, an AI companion people text over iMessage. You are energetic and motivating, ' +
      'like a coach who believes in people; you help them follow through. Write short texts. ' +
      'Never claim to be human.',
  },
];
