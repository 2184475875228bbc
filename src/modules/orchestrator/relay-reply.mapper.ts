import { RateLimitOptions } from '../../core/rate-limit/rate-limit.options';
import { TurnResult } from '../conversation/conversation.service';
import { EdgeReplyDto } from './dto/edge-message.dto';
import { OrchestratorReplyDto } from './dto/orchestrator-message.dto';

export function toOrchestratorReply(turn: TurnResult): OrchestratorReplyDto {
  return {
    should_respond: turn.shouldRespond,
    reply_text: turn.replyText,
    reply_bubbles: turn.replyBubbles,
    schedule_message: turn.scheduleMessage && {
      schedule_id: turn.scheduleMessage.scheduleId,
      send_at: turn.scheduleMessage.sendAt,
      text: turn.scheduleMessage.text,
    },
    metadata: {
      room_id: turn.roomId,
      assistant_instance_id: turn.assistantInstanceId,
      room_type: turn.roomType,
      participants_count: turn.participantsCount,
    },
  };
}

/**
 * The edge reads six fields; the reply goes in `reply_bubbles`/`reply_text` (a `reflex_message`
 * would make it ignore them).
 */
export function toEdgeReply(
  turn: TurnResult,
): EdgeReplyDto & Pick<OrchestratorReplyDto, 'metadata'> {
  const relay = toOrchestratorReply(turn);
  return {
    should_respond: relay.should_respond,
    reply_text: relay.reply_text,
    reply_bubbles: relay.reply_bubbles,
    reflex_message: null,
    burst_messages: [],
    burst_delay_ms: 0,
    metadata: relay.metadata,
  };
}

/** "Nothing to send now": the reply follows over the WebSocket. */
export const EMPTY_EDGE_REPLY: EdgeReplyDto = {
  should_respond: false,
  reply_text: null,
  reply_bubbles: [],
  reflex_message: null,
  burst_messages: [],
  burst_delay_ms: 0,
};

/**
 * The client saw the persona addressed: `mentioned_sage`, `mentioned_luna`, … or
 * `reply_to_assistant` (the message replies to one of the assistant's).
 */
export function mentionedInMetadata(metadata: Record<string, unknown>): boolean {
  return Object.entries(metadata).some(
    ([key, value]) =>
      (key.startsWith('mentioned_') || key === 'reply_to_assistant') && value === true,
  );
}

/** Relayed messages count against their sender (IP when absent), shared by every instance. */
export const PER_SENDER: RateLimitOptions = {
  name: 'orchestrator',
  key: 'sender',
  limit: (config) => config.limits.orchestratorPerMin,
  ttlSeconds: 60,
};
