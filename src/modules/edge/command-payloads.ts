/**
 * The commands the deployed edge client executes (EDGE_PROTOCOL §4.1) and the checks a payload
 * must pass before it is queued. A payload the edge would refuse, or worse, would misroute (a group
 * chat id without `is_group`, a zoneless `send_at`), is refused here with a message naming the
 * field, so the mistake surfaces at the caller instead of as a failed ack minutes later.
 */

export const EDGE_COMMAND_TYPES = [
  'send_message_now',
  'schedule_message',
  'cancel_scheduled',
  'set_rule',
  'update_plan',
  'context_update',
  'context_reset',
  'upload_retry',
  'emit_event',
] as const;
export type EdgeCommandType = (typeof EDGE_COMMAND_TYPES)[number];

export const EDGE_COMMAND_PRIORITIES = ['normal', 'immediate'] as const;
export type EdgeCommandPriority = (typeof EDGE_COMMAND_PRIORITIES)[number];

/** One iMessage send on the edge is at most this many characters (its AppleScript sender). */
export const MAX_EDGE_TEXT_LENGTH = 5000;
/** The edge keeps only these characters of a thread id; anything else would be stripped. */
const CHAT_ID = /^[A-Za-z0-9+@._\-;]+$/;
const MAX_CHAT_ID_LENGTH = 200;
const MAX_ID_LENGTH = 256;
const MAX_PAYLOAD_BYTES = 64 * 1024;

/**
 * What the edge's AppleScript sender refuses (case-insensitive, as it tests them): a text matching
 * any of these fails the command with "forbidden AppleScript commands".
 */
const APPLESCRIPT_TRIGGERS: readonly RegExp[] = [
  /do shell script/i,
  /tell application "system events"/i,
  /tell application "finder"/i,
  /activate application/i,
  /\bexecute\b.*\bscript\b/i,
  /osascript/i,
  /applescript/i,
  /end tell.*tell/i,
];

/** A payload the edge would refuse or misroute; the message names the field and the reason. */
export class CommandPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandPayloadError';
  }
}

export interface SendMessageNowPayload {
  thread_id: string;
  text: string;
  bubble_type?: 'reflex' | 'burst' | 'normal';
}

export interface ScheduleMessagePayload {
  thread_id: string;
  message_text: string;
  /** ISO 8601 in UTC with `Z`. */
  send_at: string;
  is_group: boolean;
}

export interface CancelScheduledPayload {
  /** The edge-local schedule id, which the edge never reports: effectively unusable (§4.1). */
  schedule_id: string;
}

export interface RuleCondition {
  field: 'sender' | 'content' | 'thread_id' | 'is_group';
  operator: 'equals' | 'contains' | 'matches' | 'starts_with' | 'ends_with';
  value: string | number | boolean;
}

export interface SetRulePayload {
  rule_type: 'auto_reply' | 'forward' | 'filter' | 'schedule_reply';
  rule_config: {
    name?: string;
    enabled?: boolean;
    conditions: RuleCondition[];
    action: { type: 'reply' | 'forward' | 'block' | 'schedule_reply'; parameters: object };
  };
}

export interface UpdatePlanPayload {
  thread_id: string;
  plan_data: Record<string, unknown>;
}

export interface ContextUpdatePayload {
  chat_guid: string;
  thread_id: string;
  app_id: string;
  room_id?: string;
  state?: 'active' | 'completed';
  metadata?: Record<string, unknown>;
  notify_text?: string;
}

export interface ContextResetPayload {
  chat_guid: string;
  thread_id: string;
  reason?: string;
  notify_text?: string;
}

export interface UploadRetryPayload {
  attachment_guid: string;
  chat_guid?: string;
  thread_id?: string;
  reason?: string;
  retry_count?: number;
}

export interface EmitEventPayload {
  event_type: string;
  chat_guid?: string;
  thread_id?: string;
  room_id?: string;
  event_data?: Record<string, unknown>;
}

/** The payload of each command type, for typed callers of `EdgeCommandsService.create`. */
export interface EdgeCommandPayloads {
  send_message_now: SendMessageNowPayload;
  schedule_message: Omit<ScheduleMessagePayload, 'is_group' | 'send_at'> & {
    /** A Date, or an ISO string with `Z` or an offset; normalised to UTC `Z`. */
    send_at: string | Date;
    /** Forced to true for group chat ids (`chat…`). */
    is_group?: boolean;
  };
  cancel_scheduled: CancelScheduledPayload;
  set_rule: SetRulePayload;
  update_plan: UpdatePlanPayload;
  context_update: ContextUpdatePayload;
  context_reset: ContextResetPayload;
  upload_retry: UploadRetryPayload;
  emit_event: EmitEventPayload;
}

/** The payload fields the edge reads, per command type (§4.1). */
const PAYLOAD_FIELDS: Record<EdgeCommandType, readonly string[]> = {
  send_message_now: ['thread_id', 'text', 'bubble_type'],
  schedule_message: ['thread_id', 'message_text', 'send_at', 'is_group'],
  cancel_scheduled: ['schedule_id'],
  set_rule: ['rule_type', 'rule_config'],
  update_plan: ['thread_id', 'plan_data'],
  context_update: [
    'chat_guid',
    'thread_id',
    'app_id',
    'room_id',
    'state',
    'metadata',
    'notify_text',
  ],
  context_reset: ['chat_guid', 'thread_id', 'reason', 'notify_text'],
  upload_retry: ['attachment_guid', 'chat_guid', 'thread_id', 'reason', 'retry_count'],
  emit_event: ['event_type', 'chat_guid', 'thread_id', 'room_id', 'event_data'],
};

export function isEdgeCommandType(value: unknown): value is EdgeCommandType {
  return typeof value === 'string' && (EDGE_COMMAND_TYPES as readonly string[]).includes(value);
}

/**
 * A group chat id as the edge sends it: `chat<…>` (optionally already in the `iMessage;+;chat…`
 * form). An address containing `@` is a person, even if it starts with "chat".
 */
export function isGroupChatId(chatId: string): boolean {
  return /^(?:[^;]*;\+;)?chat[^@]*$/.test(chatId);
}

/** Why the edge would refuse this text, or undefined when it would send it. */
export function edgeTextProblem(text: string): string | undefined {
  if (text.trim().length === 0) return 'must not be empty';
  if (text.length > MAX_EDGE_TEXT_LENGTH) {
    return `must be at most ${MAX_EDGE_TEXT_LENGTH} characters (got ${text.length})`;
  }
  const trigger = APPLESCRIPT_TRIGGERS.find((pattern) => pattern.test(text));
  if (trigger) {
    return `contains a phrase the edge's AppleScript sender refuses (${trigger.source})`;
  }
  return undefined;
}

/**
 * Checks a command payload against what the edge executes and returns the payload to store
 * (chat ids verbatim; `send_at` normalised to UTC `Z`; `is_group` set for group chats).
 * Unknown fields are refused: the edge ignores them, so they are always a caller's typo.
 */
export function validateCommandPayload(type: string, payload: unknown): Record<string, unknown> {
  if (!isEdgeCommandType(type)) {
    throw new CommandPayloadError(
      `command_type must be one of ${EDGE_COMMAND_TYPES.join(', ')} (got ${JSON.stringify(type)})`,
    );
  }
  const p = new PayloadReader(type, payload);
  p.refuseUnknown(PAYLOAD_FIELDS[type]);
  let result: Record<string, unknown>;
  switch (type) {
    case 'send_message_now':
      result = {
        thread_id: p.chatId('thread_id'),
        text: p.text('text'),
        ...p.optional('bubble_type', () => p.oneOf('bubble_type', ['reflex', 'burst', 'normal'])),
      };
      break;
    case 'schedule_message': {
      const threadId = p.chatId('thread_id');
      const isGroup = p.optional('is_group', () => p.boolean('is_group')).is_group ?? false;
      result = {
        thread_id: threadId,
        message_text: p.text('message_text'),
        send_at: p.utcTime('send_at'),
        // The edge addresses a group only when told; a `chat…` id sent as direct fails.
        is_group: isGroup || isGroupChatId(threadId),
      };
      break;
    }
    case 'cancel_scheduled':
      result = { schedule_id: p.id('schedule_id') };
      break;
    case 'set_rule':
      result = {
        rule_type: p.oneOf('rule_type', ['auto_reply', 'forward', 'filter', 'schedule_reply']),
        rule_config: p.ruleConfig('rule_config'),
      };
      break;
    case 'update_plan':
      result = { thread_id: p.chatId('thread_id'), plan_data: p.object('plan_data') };
      break;
    case 'context_update':
      result = {
        chat_guid: p.chatId('chat_guid'),
        thread_id: p.chatId('thread_id'),
        app_id: p.id('app_id'),
        ...p.optional('room_id', () => p.id('room_id')),
        ...p.optional('state', () => p.oneOf('state', ['active', 'completed'])),
        ...p.optional('metadata', () => p.object('metadata')),
        ...p.optional('notify_text', () => p.text('notify_text')),
      };
      break;
    case 'context_reset':
      result = {
        chat_guid: p.chatId('chat_guid'),
        thread_id: p.chatId('thread_id'),
        ...p.optional('reason', () => p.id('reason', 1000)),
        ...p.optional('notify_text', () => p.text('notify_text')),
      };
      break;
    case 'upload_retry':
      result = {
        attachment_guid: p.id('attachment_guid'),
        ...p.optional('chat_guid', () => p.chatId('chat_guid')),
        ...p.optional('thread_id', () => p.chatId('thread_id')),
        ...p.optional('reason', () => p.id('reason', 1000)),
        ...p.optional('retry_count', () => p.count('retry_count')),
      };
      break;
    case 'emit_event':
      result = {
        event_type: p.id('event_type', 128),
        ...p.optional('chat_guid', () => p.chatId('chat_guid')),
        ...p.optional('thread_id', () => p.chatId('thread_id')),
        ...p.optional('room_id', () => p.id('room_id')),
        ...p.optional('event_data', () => p.object('event_data')),
      };
      break;
  }
  if (Buffer.byteLength(JSON.stringify(result)) > MAX_PAYLOAD_BYTES) {
    throw new CommandPayloadError(`${type} payload is larger than ${MAX_PAYLOAD_BYTES} bytes`);
  }
  return result;
}

/** Reads fields of one payload, throwing a CommandPayloadError that names `<type>.<field>`. */
class PayloadReader {
  private readonly fields: Record<string, unknown>;

  constructor(
    private readonly type: EdgeCommandType,
    payload: unknown,
  ) {
    if (!isPlainObject(payload)) throw new CommandPayloadError(`${type} payload must be an object`);
    this.fields = payload;
  }

  fail(field: string, reason: string): never {
    throw new CommandPayloadError(`${this.type}.${field} ${reason}`);
  }

  /** `{ field: value }` when the field is present (null counts as absent), else `{}`. */
  optional<K extends string, T>(field: K, read: () => T): { [P in K]?: T } {
    const value = this.fields[field];
    if (value === undefined || value === null) return {};
    return { [field]: read() } as { [P in K]?: T };
  }

  string(field: string, max: number): string {
    const value = this.fields[field];
    if (value === undefined || value === null) this.fail(field, 'is required');
    if (typeof value !== 'string') this.fail(field, 'must be a string');
    if (value.trim().length === 0) this.fail(field, 'must not be empty');
    if (value.length > max) this.fail(field, `must be at most ${max} characters`);
    return value;
  }

  id(field: string, max = MAX_ID_LENGTH): string {
    return this.string(field, max);
  }

  /** A chat id exactly as the edge sent it (`+1555…`, an email, `chat123…`): never rewritten. */
  chatId(field: string): string {
    const value = this.string(field, MAX_CHAT_ID_LENGTH);
    if (!CHAT_ID.test(value)) {
      const bad = [...new Set(value.replace(/[A-Za-z0-9+@._\-;]/g, ''))].join('');
      this.fail(
        field,
        `must be the chat id exactly as the edge sent it (e.g. +15551234567 or chat123456789); ` +
          `it contains characters the edge would strip: ${JSON.stringify(bad)}` +
          (/^imessage:/i.test(value) ? ' (drop the stored "imessage:" prefix)' : ''),
      );
    }
    return value;
  }

  text(field: string): string {
    const value = this.fields[field];
    if (value === undefined || value === null) this.fail(field, 'is required');
    if (typeof value !== 'string') this.fail(field, 'must be a string');
    const problem = edgeTextProblem(value);
    if (problem) this.fail(field, problem);
    return value;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[]): T {
    const value = this.fields[field];
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(field, `must be one of ${allowed.join(', ')}`);
    }
    return value as T;
  }

  boolean(field: string): boolean {
    const value = this.fields[field];
    if (typeof value !== 'boolean') this.fail(field, 'must be a boolean');
    return value;
  }

  count(field: string): number {
    const value = this.fields[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      this.fail(field, 'must be a non-negative integer');
    }
    return value;
  }

  object(field: string): Record<string, unknown> {
    const value = this.fields[field];
    if (value === undefined || value === null) this.fail(field, 'is required');
    if (!isPlainObject(value)) this.fail(field, 'must be an object');
    return value;
  }

  /** An ISO 8601 time with `Z` or an offset (or a Date), returned as UTC `…Z`. */
  utcTime(field: string): string {
    const value = this.fields[field];
    if (value === undefined || value === null) this.fail(field, 'is required');
    let date: Date;
    if (value instanceof Date) {
      date = value;
    } else if (typeof value === 'string') {
      const text = value.trim();
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?/.test(text)) {
        this.fail(field, 'must be an ISO 8601 time such as 2026-03-01T17:30:00Z');
      }
      if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(text)) {
        this.fail(
          field,
          'must carry its zone (Z): the edge reads a zoneless time as the Mac’s local time',
        );
      }
      date = new Date(text);
    } else {
      this.fail(field, 'must be an ISO 8601 string');
    }
    if (Number.isNaN(date.getTime())) this.fail(field, 'is not a valid time');
    return date.toISOString();
  }

  ruleConfig(field: string): Record<string, unknown> {
    const config = this.object(field);
    const where = (sub: string) => `${field}.${sub}`;
    const known = ['name', 'enabled', 'conditions', 'action'];
    const unknown = Object.keys(config).filter((k) => !known.includes(k));
    if (unknown.length) this.fail(where(unknown[0]), 'is not a field of rule_config');
    const result: Record<string, unknown> = {};
    if (config.name !== undefined && config.name !== null) {
      if (typeof config.name !== 'string' || config.name.length > MAX_ID_LENGTH) {
        this.fail(where('name'), `must be a string of at most ${MAX_ID_LENGTH} characters`);
      }
      result.name = config.name;
    }
    if (config.enabled !== undefined && config.enabled !== null) {
      if (typeof config.enabled !== 'boolean') this.fail(where('enabled'), 'must be a boolean');
      result.enabled = config.enabled;
    }
    const conditions = config.conditions;
    if (!Array.isArray(conditions) || conditions.length === 0) {
      this.fail(where('conditions'), 'must be a non-empty array');
    }
    result.conditions = conditions.map((condition: unknown, i) => {
      const at = where(`conditions.${i}`);
      if (!isPlainObject(condition)) this.fail(at, 'must be an object');
      const extra = Object.keys(condition).filter(
        (k) => !['field', 'operator', 'value'].includes(k),
      );
      if (extra.length) this.fail(`${at}.${extra[0]}`, 'is not a field of a condition');
      const fields = ['sender', 'content', 'thread_id', 'is_group'];
      const operators = ['equals', 'contains', 'matches', 'starts_with', 'ends_with'];
      if (typeof condition.field !== 'string' || !fields.includes(condition.field)) {
        this.fail(`${at}.field`, `must be one of ${fields.join(', ')}`);
      }
      if (typeof condition.operator !== 'string' || !operators.includes(condition.operator)) {
        this.fail(`${at}.operator`, `must be one of ${operators.join(', ')}`);
      }
      if (!['string', 'number', 'boolean'].includes(typeof condition.value)) {
        this.fail(`${at}.value`, 'must be a string, number or boolean');
      }
      return { field: condition.field, operator: condition.operator, value: condition.value };
    });
    const action = config.action;
    if (!isPlainObject(action)) this.fail(where('action'), 'must be an object');
    const extra = Object.keys(action).filter((k) => !['type', 'parameters'].includes(k));
    if (extra.length) this.fail(where(`action.${extra[0]}`), 'is not a field of an action');
    const actionTypes = ['reply', 'forward', 'block', 'schedule_reply'];
    if (typeof action.type !== 'string' || !actionTypes.includes(action.type)) {
      this.fail(where('action.type'), `must be one of ${actionTypes.join(', ')}`);
    }
    if (!isPlainObject(action.parameters)) {
      this.fail(where('action.parameters'), 'must be an object');
    }
    result.action = { type: action.type, parameters: action.parameters };
    return result;
  }

  refuseUnknown(known: readonly string[]): void {
    const unknown = Object.keys(this.fields).filter(
      (k) => !known.includes(k) && this.fields[k] !== undefined && this.fields[k] !== null,
    );
    if (unknown.length) {
      this.fail(unknown[0], `is not a field of ${this.type} (the edge reads ${known.join(', ')})`);
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
