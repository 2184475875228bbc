import {
  CommandPayloadError,
  EDGE_COMMAND_TYPES,
  edgeTextProblem,
  isGroupChatId,
  validateCommandPayload,
} from './command-payloads';

function refusal(type: string, payload: unknown): string {
  try {
    validateCommandPayload(type, payload);
  } catch (err) {
    expect(err).toBeInstanceOf(CommandPayloadError);
    return (err as Error).message;
  }
  throw new Error(`${type} ${JSON.stringify(payload)} was accepted`);
}

const rule = {
  name: 'away',
  enabled: true,
  conditions: [{ field: 'sender', operator: 'equals', value: '+15550001111' }],
  action: { type: 'reply', parameters: { text: 'brb' } },
};

/** One valid payload per command type (EDGE_PROTOCOL §4.1). */
const VALID: Record<string, Record<string, unknown>> = {
  send_message_now: { thread_id: '+15551234567', text: 'hey!', bubble_type: 'reflex' },
  schedule_message: {
    thread_id: '+15551234567',
    message_text: 'good morning',
    send_at: '2026-03-01T17:30:00.000Z',
    is_group: false,
  },
  cancel_scheduled: { schedule_id: '4a3c2b1a-0000-4000-8000-000000000000' },
  set_rule: { rule_type: 'auto_reply', rule_config: rule },
  update_plan: { thread_id: 'chat123456789012345678', plan_data: { steps: ['a', 'b'] } },
  context_update: {
    chat_guid: 'chat123456789012345678',
    thread_id: 'chat123456789012345678',
    app_id: 'split_bill',
    room_id: 'room-1',
    state: 'active',
    metadata: { total: 42 },
    notify_text: 'split started',
  },
  context_reset: {
    chat_guid: '+15551234567',
    thread_id: '+15551234567',
    reason: 'done',
    notify_text: 'all settled',
  },
  upload_retry: {
    attachment_guid: 'AT-1',
    chat_guid: '+15551234567',
    thread_id: '+15551234567',
    reason: 'analysis failed',
    retry_count: 1,
  },
  emit_event: {
    event_type: 'miniapp_done',
    chat_guid: '+15551234567',
    thread_id: '+15551234567',
    room_id: 'room-1',
    event_data: { ok: true },
  },
};

describe('validateCommandPayload', () => {
  it('accepts a full valid payload of every one of the nine command types, unchanged', () => {
    expect(Object.keys(VALID).sort()).toEqual([...EDGE_COMMAND_TYPES].sort());
    for (const [type, payload] of Object.entries(VALID)) {
      expect({ type, result: validateCommandPayload(type, payload) }).toEqual({
        type,
        result: payload,
      });
    }
  });

  it('accepts the minimal payload of every type (optional fields may be absent or null)', () => {
    expect(validateCommandPayload('send_message_now', { thread_id: 'a@b.co', text: 'x' })).toEqual({
      thread_id: 'a@b.co',
      text: 'x',
    });
    expect(
      validateCommandPayload('context_update', {
        chat_guid: '+1555',
        thread_id: '+1555',
        app_id: 'poll',
        room_id: null,
      }),
    ).toEqual({ chat_guid: '+1555', thread_id: '+1555', app_id: 'poll' });
    expect(validateCommandPayload('context_reset', { chat_guid: '+1', thread_id: '+1' })).toEqual({
      chat_guid: '+1',
      thread_id: '+1',
    });
    expect(validateCommandPayload('upload_retry', { attachment_guid: 'g' })).toEqual({
      attachment_guid: 'g',
    });
    expect(validateCommandPayload('emit_event', { event_type: 'x' })).toEqual({ event_type: 'x' });
  });

  it('refuses an unknown command type and a payload that is not an object', () => {
    expect(refusal('send_message', { thread_id: '+1', text: 'x' })).toMatch(
      /^command_type must be one of send_message_now, schedule_message, .*emit_event/,
    );
    expect(refusal('send_message_now', null)).toBe('send_message_now payload must be an object');
    expect(refusal('send_message_now', ['x'])).toBe('send_message_now payload must be an object');
    expect(refusal('emit_event', 'x')).toBe('emit_event payload must be an object');
  });

  it('refuses fields the edge does not read, naming them (the doc names `parameters`, `text`…)', () => {
    expect(refusal('send_message_now', { thread_id: '+1', text: 'x', chat_guid: '+1' })).toMatch(
      /^send_message_now\.chat_guid is not a field of send_message_now/,
    );
    expect(
      refusal('schedule_message', { thread_id: '+1', text: 'x', send_at: '2026-01-01T00:00:00Z' }),
    ).toMatch(/^schedule_message\.text is not a field/);
  });

  describe('chat ids: verbatim, as the edge sent them', () => {
    it('keeps direct, email, group and iMessage-form ids exactly', () => {
      for (const id of [
        '+15551234567',
        'me@icloud.com',
        'chat123456789012345678',
        'iMessage;-;+15551234567',
      ]) {
        expect(
          validateCommandPayload('send_message_now', { thread_id: id, text: 'x' }).thread_id,
        ).toBe(id);
      }
    });

    it('refuses characters the edge would strip, and points at the stored imessage: prefix', () => {
      expect(
        refusal('send_message_now', { thread_id: 'imessage:+15551234567', text: 'x' }),
      ).toMatch(
        /^send_message_now\.thread_id must be the chat id exactly as the edge sent it .* ":" \(drop the stored "imessage:" prefix\)$/,
      );
      expect(refusal('update_plan', { thread_id: '+1 555', plan_data: {} })).toMatch(/strip: " "/);
      expect(refusal('context_update', { chat_guid: '', thread_id: '+1', app_id: 'a' })).toBe(
        'context_update.chat_guid must not be empty',
      );
      expect(refusal('context_reset', { chat_guid: '+1' })).toBe(
        'context_reset.thread_id is required',
      );
      expect(refusal('send_message_now', { thread_id: 5, text: 'x' })).toBe(
        'send_message_now.thread_id must be a string',
      );
      expect(refusal('send_message_now', { thread_id: 'x'.repeat(201), text: 'x' })).toBe(
        'send_message_now.thread_id must be at most 200 characters',
      );
    });
  });

  describe('text', () => {
    it('is 1–5000 characters', () => {
      const max = 'a'.repeat(5000);
      expect(validateCommandPayload('send_message_now', { thread_id: '+1', text: max }).text).toBe(
        max,
      );
      expect(refusal('send_message_now', { thread_id: '+1', text: `${max}a` })).toBe(
        'send_message_now.text must be at most 5000 characters (got 5001)',
      );
      expect(refusal('send_message_now', { thread_id: '+1', text: '' })).toBe(
        'send_message_now.text must not be empty',
      );
      expect(refusal('send_message_now', { thread_id: '+1', text: '  \n ' })).toBe(
        'send_message_now.text must not be empty',
      );
      expect(refusal('send_message_now', { thread_id: '+1' })).toBe(
        'send_message_now.text is required',
      );
    });

    it('refuses every AppleScript trigger phrase, in any case, in every text field', () => {
      const triggers = [
        'ok do shell script "rm"',
        'Tell Application "System Events" to quit',
        'tell application "finder"',
        'please ACTIVATE APPLICATION now',
        'execute this script',
        'run osascript',
        'I love AppleScript',
        'end tell; tell me more',
      ];
      for (const text of triggers) {
        expect(edgeTextProblem(text)).toMatch(/AppleScript sender refuses/);
        expect(refusal('send_message_now', { thread_id: '+1', text })).toMatch(
          /^send_message_now\.text contains a phrase the edge's AppleScript sender refuses/,
        );
      }
      const base = { thread_id: '+1', send_at: '2026-01-01T00:00:00Z' };
      expect(refusal('schedule_message', { ...base, message_text: 'osascript' })).toMatch(
        /^schedule_message\.message_text contains/,
      );
      expect(
        refusal('context_update', {
          chat_guid: '+1',
          thread_id: '+1',
          app_id: 'a',
          notify_text: 'applescript',
        }),
      ).toMatch(/^context_update\.notify_text contains/);
      expect(
        refusal('context_reset', {
          chat_guid: '+1',
          thread_id: '+1',
          notify_text: 'do shell script',
        }),
      ).toMatch(/^context_reset\.notify_text contains/);
    });

    it('lets ordinary texts through (script and tell alone are fine)', () => {
      for (const text of [
        'tell me a story',
        'the script was great',
        'end of the day 🌙',
        'execute!',
      ]) {
        expect(edgeTextProblem(text)).toBeUndefined();
      }
    });
  });

  describe('schedule_message', () => {
    const base = { thread_id: '+15551234567', message_text: 'hi' };

    it('normalises send_at to UTC with Z (Z, offsets, Dates)', () => {
      const at = (send_at: unknown) =>
        validateCommandPayload('schedule_message', { ...base, send_at }).send_at;
      expect(at('2026-03-01T17:30:00Z')).toBe('2026-03-01T17:30:00.000Z');
      expect(at('2026-03-01T09:30:00-08:00')).toBe('2026-03-01T17:30:00.000Z');
      expect(at('2026-03-01T17:30:00.123z')).toBe('2026-03-01T17:30:00.123Z');
      expect(at(new Date('2026-03-01T17:30:00Z'))).toBe('2026-03-01T17:30:00.000Z');
    });

    it('refuses a zoneless, malformed, impossible or missing send_at', () => {
      expect(refusal('schedule_message', { ...base, send_at: '2026-03-01T17:30:00' })).toMatch(
        /^schedule_message\.send_at must carry its zone \(Z\)/,
      );
      expect(refusal('schedule_message', { ...base, send_at: 'tomorrow 9am' })).toMatch(
        /^schedule_message\.send_at must be an ISO 8601 time/,
      );
      expect(refusal('schedule_message', { ...base, send_at: '2026-13-45T17:30:00Z' })).toBe(
        'schedule_message.send_at is not a valid time',
      );
      expect(refusal('schedule_message', { ...base, send_at: 1767225600 })).toBe(
        'schedule_message.send_at must be an ISO 8601 string',
      );
      expect(refusal('schedule_message', base)).toBe('schedule_message.send_at is required');
    });

    it('forces is_group for group chat ids, defaults it to false otherwise', () => {
      const group = (thread_id: string, is_group?: boolean) =>
        validateCommandPayload('schedule_message', {
          ...base,
          thread_id,
          send_at: '2026-03-01T17:30:00Z',
          ...(is_group === undefined ? {} : { is_group }),
        }).is_group;
      expect(group('chat123456789012345678')).toBe(true);
      expect(group('chat123456789012345678', false)).toBe(true);
      expect(group('iMessage;+;chat123456789012345678', false)).toBe(true);
      expect(group('+15551234567')).toBe(false);
      expect(group('chatty@icloud.com')).toBe(false);
      expect(group('+15551234567', true)).toBe(true);
      expect(
        refusal('schedule_message', { ...base, send_at: '2026-03-01T17:30:00Z', is_group: 'yes' }),
      ).toBe('schedule_message.is_group must be a boolean');
    });
  });

  it('send_message_now.bubble_type is reflex, burst or normal', () => {
    expect(refusal('send_message_now', { thread_id: '+1', text: 'x', bubble_type: 'big' })).toBe(
      'send_message_now.bubble_type must be one of reflex, burst, normal',
    );
  });

  it('cancel_scheduled needs a schedule_id', () => {
    expect(refusal('cancel_scheduled', {})).toBe('cancel_scheduled.schedule_id is required');
  });

  describe('set_rule', () => {
    const withConfig = (rule_config: unknown, rule_type = 'auto_reply') =>
      refusal('set_rule', { rule_type, rule_config });

    it('checks rule_type, conditions and the action', () => {
      expect(withConfig(rule, 'autoreply')).toBe(
        'set_rule.rule_type must be one of auto_reply, forward, filter, schedule_reply',
      );
      expect(withConfig({ ...rule, conditions: [] })).toBe(
        'set_rule.rule_config.conditions must be a non-empty array',
      );
      expect(
        withConfig({ ...rule, conditions: [{ field: 'body', operator: 'equals', value: 'x' }] }),
      ).toBe(
        'set_rule.rule_config.conditions.0.field must be one of sender, content, thread_id, is_group',
      );
      expect(
        withConfig({ ...rule, conditions: [{ field: 'content', operator: 'like', value: 'x' }] }),
      ).toMatch(/^set_rule\.rule_config\.conditions\.0\.operator must be one of equals/);
      expect(
        withConfig({
          ...rule,
          conditions: [{ field: 'content', operator: 'contains', value: null }],
        }),
      ).toBe('set_rule.rule_config.conditions.0.value must be a string, number or boolean');
      expect(withConfig({ ...rule, action: { type: 'delete', parameters: {} } })).toBe(
        'set_rule.rule_config.action.type must be one of reply, forward, block, schedule_reply',
      );
      expect(withConfig({ ...rule, action: { type: 'block' } })).toBe(
        'set_rule.rule_config.action.parameters must be an object',
      );
      expect(withConfig({ ...rule, priority: 1 })).toBe(
        'set_rule.rule_config.priority is not a field of rule_config',
      );
      expect(withConfig({ ...rule, enabled: 'yes' })).toBe(
        'set_rule.rule_config.enabled must be a boolean',
      );
      expect(refusal('set_rule', { rule_type: 'filter' })).toBe('set_rule.rule_config is required');
    });
  });

  it('object fields must be objects', () => {
    expect(refusal('update_plan', { thread_id: '+1', plan_data: [1] })).toBe(
      'update_plan.plan_data must be an object',
    );
    expect(refusal('emit_event', { event_type: 'x', event_data: 'x' })).toBe(
      'emit_event.event_data must be an object',
    );
    expect(
      refusal('context_update', { chat_guid: '+1', thread_id: '+1', app_id: 'a', state: 'open' }),
    ).toBe('context_update.state must be one of active, completed');
    expect(refusal('upload_retry', { attachment_guid: 'g', retry_count: -1 })).toBe(
      'upload_retry.retry_count must be a non-negative integer',
    );
    expect(refusal('emit_event', {})).toBe('emit_event.event_type is required');
  });

  it('refuses payloads over 64 KiB', () => {
    expect(
      refusal('update_plan', { thread_id: '+1', plan_data: { blob: 'x'.repeat(70_000) } }),
    ).toBe('update_plan payload is larger than 65536 bytes');
  });
});

describe('isGroupChatId', () => {
  it('recognises chat… ids and the iMessage;+; form, not people', () => {
    expect(isGroupChatId('chat123')).toBe(true);
    expect(isGroupChatId('iMessage;+;chat123')).toBe(true);
    expect(isGroupChatId('+15551234567')).toBe(false);
    expect(isGroupChatId('chatty@icloud.com')).toBe(false);
    expect(isGroupChatId('iMessage;-;+1555')).toBe(false);
  });
});
