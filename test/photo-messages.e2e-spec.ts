import { FakeChatBody, FakeOpenAI } from './fake-openai/fake-openai.server';
import { jpeg } from './fixtures/images';
import { TestDatabase } from './helpers/database';
import { query } from './helpers/db-query';
import { newRedisPrefix, RunningApi, startTestSystem, TestSystem } from './helpers/test-app';

const EDGE_SECRET = 'edge-secret-photo-messages';
const ANALYSIS = {
  summary: 'a golden retriever catching a frisbee on a beach',
  activities: ['playing fetch'],
  people: [],
  places: ['beach'],
  preferences: ['loves dogs'],
};

const isVision = (body: FakeChatBody) =>
  (body.messages ?? []).some(
    (m) => Array.isArray(m.content) && m.content.some((p) => p.type === 'image_url'),
  );

describe('photo messages: the reply knows what the photo shows', () => {
  let sys: TestSystem;
  let db: TestDatabase;
  let fake: FakeOpenAI;
  let api: RunningApi;
  const prefix = newRedisPrefix();
  let visionDelayMs = 0;

  beforeAll(async () => {
    sys = await startTestSystem({
      prefix,
      overrides: { EDGE_SECRET, PHOTO_ANALYSIS_WAIT_MS: '5000' },
      worker: true,
    });
    ({ db, fake, api } = sys);
    fake.respondWith((body) => {
      if (isVision(body)) return { content: JSON.stringify(ANALYSIS), delayMs: visionDelayMs };
      if (body.response_format?.type === 'json_object') return { content: '{"facts": []}' };
      return { content: 'what a good dog!' };
    });
  });

  afterAll(async () => {
    await sys?.close();
  });

  const headers = { authorization: `Bearer ${EDGE_SECRET}`, 'x-edge-agent-id': 'luna3' };

  async function upload(bytes: Buffer, fields: Record<string, string>): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([bytes], { type: 'image/jpeg' }), 'IMG_1.jpg');
    for (const [name, value] of Object.entries({ edge_agent_id: 'luna3', ...fields })) {
      form.append(name, value);
    }
    const res = await fetch(`${api.url}/photo/upload`, { method: 'POST', body: form, headers });
    expect(res.status).toBeLessThan(300);
    return ((await res.json()) as { photo_id: string }).photo_id;
  }

  function edgeMessage(
    chat: string,
    sender: string,
    text: string,
    photoId: string,
    mode = 'direct',
  ) {
    return api.request('POST', '/edge/message', {
      headers,
      body: {
        chat_guid: chat,
        mode,
        sender,
        text,
        timestamp: Math.floor(Date.now() / 1000),
        participants: [sender],
        persona_id: 'luna',
        attachments: [
          {
            guid: 'att-1',
            mime_type: 'image/jpeg',
            size_bytes: 100,
            is_photo: true,
            skipped: false,
            uploaded_photo_id: photoId,
          },
        ],
      },
    });
  }

  const lastReplyPrompt = () =>
    JSON.stringify(
      fake
        .chatRequests()
        .filter((r) => !isVision(r.body) && r.body.response_format?.type !== 'json_object')
        .at(-1)!.body.messages,
    );

  it('waits for an analysis still running, then answers with it in mind', async () => {
    visionDelayMs = 1500;
    const sender = '+15556660001';
    const photoId = await upload(jpeg('dog-1'), {
      user_phone: sender,
      chat_guid: sender,
      is_group: 'false',
      caption: '\uFFFClook at him go',
    });
    const res = await edgeMessage(sender, sender, 'look at him go', photoId);
    expect(res.body).toMatchObject({ should_respond: true, reply_text: 'what a good dog!' });
    expect(lastReplyPrompt()).toContain('a golden retriever catching a frisbee on a beach');
    const memories = await query(
      db.url,
      `SELECT type, content FROM memories m JOIN users u ON u.id = m.user_id WHERE u.handle = $1 AND m.type LIKE 'visual_%' ORDER BY type`,
      [sender],
    );
    expect(memories).toEqual([
      { type: 'visual_activity', content: 'playing fetch' },
      { type: 'visual_place', content: 'beach' },
      { type: 'visual_preference', content: 'loves dogs' },
    ]);
  });

  it('a group photo shared without a mention is analysed once the persona is addressed', async () => {
    visionDelayMs = 0;
    const [alex, sam] = ['+15556660002', '+15556660003'];
    const chat = 'chat999000111';
    const photoId = await upload(jpeg('dog-2'), {
      user_phone: alex,
      chat_guid: chat,
      is_group: 'true',
      caption: 'our dog at the beach',
      participants: JSON.stringify([alex, sam]),
    });
    const [stored] = await query<{ status: string }>(
      db.url,
      `SELECT status FROM photos WHERE id = $1`,
      [photoId],
    );
    expect(stored.status).toBe('stored');

    const res = await edgeMessage(
      chat,
      sam,
      'luna, what do you think of this photo?',
      photoId,
      'group',
    );
    expect(res.body).toMatchObject({ should_respond: true });
    expect(lastReplyPrompt()).toContain('a golden retriever catching a frisbee on a beach');
    const [analysed] = await query<{ status: string }>(
      db.url,
      `SELECT status FROM photos WHERE id = $1`,
      [photoId],
    );
    expect(analysed.status).toBe('analyzed');
  });
});
