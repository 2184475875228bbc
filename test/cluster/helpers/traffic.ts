import { randomInt, randomUUID } from 'node:crypto';
import { FakeChatBody, lastUserText } from '../../fake-openai/fake-openai.server';
import { jpeg } from '../../fixtures/images';
import { query } from '../../helpers/db-query';
import { Cluster, SECRETS } from './cluster';

/** What the clients of a cluster send, and how a test recognises each kind of model call. */

export const relayAuth = { authorization: `Bearer ${SECRETS.RELAY_WEBHOOK_SECRET}` };
export const adminAuth = { authorization: `Bearer ${SECRETS.ADMIN_API_KEY}` };
export const edgeAuth = (agentId: string) => ({
  authorization: `Bearer ${SECRETS.EDGE_SECRET}`,
  'x-edge-agent-id': agentId,
});

const base = randomInt(1_000_000, 8_000_000);
let n = 0;
/** A phone number (E.164) no other test of this run uses. */
export function phone(): string {
  return `+1555${base + ++n}`;
}

export function agentName(prefix: string): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`;
}

export function orchestratorBody(
  sender: string,
  text: string,
  extra: Record<string, unknown> = {},
) {
  return {
    chat_guid: sender,
    mode: 'direct',
    sender,
    text,
    timestamp: Math.floor(Date.now() / 1000),
    participants: [sender],
    message_guid: randomUUID(),
    ...extra,
  };
}

/** The deployed edge client's body (EDGE_PROTOCOL §6.1): no message id. */
export function edgeBody(sender: string, text: string) {
  return {
    chat_guid: sender,
    mode: 'direct',
    sender,
    text,
    timestamp: Math.floor(Date.now() / 1000),
    participants: [sender],
    persona_id: 'luna',
    persona_phone: '+15550001111',
    metadata: { was_redacted: false, redacted_fields: [], filter_reason: 'phase1_transport' },
  };
}

/** A reply call of the conversation engine (it passes the tools) about a message containing `text`. */
export function isReplyTo(body: FakeChatBody, text: string): boolean {
  return (body.tools?.length ?? 0) > 0 && lastUserText(body.messages ?? []).includes(text);
}

/** A memory-extraction call (JSON mode) for a message containing `text`. */
export function isExtractionOf(body: FakeChatBody, text: string): boolean {
  return (
    body.response_format?.type === 'json_object' &&
    !isVision(body) &&
    lastUserText(body.messages ?? []).includes(text)
  );
}

export function isVision(body: FakeChatBody): boolean {
  return (body.messages ?? []).some(
    (m) => Array.isArray(m.content) && m.content.some((p) => p.type === 'image_url'),
  );
}

/** The model's answer to a photo: one memory per item. */
export const PHOTO_ANALYSIS = {
  summary: 'a bowl of ramen on a wooden table',
  activities: ['eating out'],
  people: [],
  places: ['ramen shop'],
  preferences: ['loves ramen'],
};

/** Uploads a photo as the relay does; returns its id. */
export async function uploadPhoto(
  cluster: Cluster,
  api: 'a' | 'b',
  sender: string,
): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([jpeg(randomUUID())], { type: 'image/jpeg' }), 'IMG_1.jpg');
  const res = await cluster.request<{ photo_id: string }>(
    api,
    'POST',
    `/photos/upload?${new URLSearchParams({ user_phone: sender, chat_guid: sender })}`,
    { headers: relayAuth, rawBody: form },
  );
  if (res.status !== 201 && res.status !== 200) {
    throw new Error(`photo upload: ${res.status} ${res.text}`);
  }
  return res.body.photo_id;
}

export async function photoStatus(cluster: Cluster, photoId: string): Promise<string | undefined> {
  const [row] = await query<{ status: string }>(
    cluster.databaseUrl,
    `SELECT status FROM photos WHERE id = $1`,
    [photoId],
  );
  return row?.status;
}

/** What a conversation left in the database for one sender's direct chat. */
export async function chatFootprint(cluster: Cluster, sender: string) {
  const [row] = await query<Record<string, string>>(
    cluster.databaseUrl,
    `SELECT
       (SELECT count(*) FROM messages m JOIN rooms r ON r.id = m.room_id
         WHERE r.chat_guid = $1 AND m.direction = 'inbound') AS inbound,
       (SELECT count(*) FROM messages m JOIN rooms r ON r.id = m.room_id
         WHERE r.chat_guid = $1 AND m.direction = 'outbound') AS outbound,
       (SELECT count(*) FROM llm_usage u JOIN rooms r ON r.id = u.room_id
         WHERE r.chat_guid = $1 AND u.purpose = 'reply') AS reply_calls,
       (SELECT count(*) FROM scheduled_messages s JOIN rooms r ON r.id = s.room_id
         WHERE r.chat_guid = $1) AS scheduled,
       (SELECT count(*) FROM memories mem JOIN users u ON u.id = mem.user_id
         WHERE u.handle = $2) AS memories`,
    [`imessage:${sender}`, sender],
  );
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
}
