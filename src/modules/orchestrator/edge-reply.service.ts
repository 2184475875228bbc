import { Injectable, Logger } from '@nestjs/common';
import { TurnResult } from '../conversation/conversation.service';
import { EdgeCommandsService } from '../edge/edge-commands.service';

/** Bubbles after the first go out this far apart, in order (the edge runs commands concurrently). */
export const BUBBLE_SPACING_MS = 2000;

/**
 * The WebSocket half of the edge reply channel: a reply that missed the HTTP deadline reaches
 * the agent as commands. The first bubble is a `send_message_now`; the others are
 * `schedule_message`s spaced BUBBLE_SPACING_MS apart, so they arrive in order.
 */
@Injectable()
export class EdgeReplyService {
  private readonly logger = new Logger(EdgeReplyService.name);

  constructor(private readonly commands: EdgeCommandsService) {}

  async push(agentId: string, chatId: string, turn: TurnResult): Promise<void> {
    if (!turn.shouldRespond || !turn.replyBubbles.length) return;
    const [first, ...rest] = turn.replyBubbles;
    await this.commands.create(agentId, 'send_message_now', {
      thread_id: chatId,
      text: first,
      bubble_type: 'normal',
    });
    const start = Date.now();
    for (const [i, text] of rest.entries()) {
      await this.commands.create(agentId, 'schedule_message', {
        thread_id: chatId,
        message_text: text,
        send_at: new Date(start + (i + 1) * BUBBLE_SPACING_MS),
      });
    }
    this.logger.log(
      `late reply to ${chatId} sent to ${agentId} as ${turn.replyBubbles.length} command(s)`,
    );
  }
}
