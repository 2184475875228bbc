import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EdgeCommandsService } from '../edge/edge-commands.service';
import { IMESSAGE_PREFIX } from '../rooms/chat-guid';
import { ScheduledMessagesService } from './scheduled-messages.service';

/** A message whose time passed while the system was down is still sent if this late at most. */
export const MISSED_AFTER_MS = 15 * 60_000;
/** The sweep looks this far ahead, so a lost job is restored before it is due. */
const SWEEP_HORIZON_MS = 60_000;

export type DeliveryOutcome =
  | { outcome: 'sent' | 'missed' | 'skipped' | 'no-agent' }
  /** Rescheduled to a later time after its job was queued. */
  | { outcome: 'not-yet'; sendAt: Date };

@Injectable()
export class ScheduledMessageDeliveryService {
  private readonly logger = new Logger(ScheduledMessageDeliveryService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly edgeCommands: EdgeCommandsService,
    private readonly scheduled: ScheduledMessagesService,
  ) {}

  /**
   * When a scheduled message is due: it becomes a `send_message_now` command to the agent that
   * relays its room (pushed over the WebSocket wherever the agent is connected, or kept for it).
   * More than 15 minutes late (the system was down) it is marked `missed` instead. Running twice
   * never sends twice: an existing command for the row is reused.
   */
  async deliver(id: string, now = new Date()): Promise<DeliveryOutcome> {
    const [row] = await this.dataSource.query(
      `SELECT s.id, s.text, s.send_at AS "sendAt", s.status, r.chat_guid AS "chatGuid",
              r.edge_agent_id AS "agentId"
       FROM scheduled_messages s JOIN rooms r ON r.id = s.room_id WHERE s.id = $1`,
      [id],
    );
    if (!row || row.status !== 'scheduled') return { outcome: 'skipped' };
    const lateness = now.getTime() - new Date(row.sendAt).getTime();
    if (lateness < -1000) return { outcome: 'not-yet', sendAt: new Date(row.sendAt) };
    if (lateness > MISSED_AFTER_MS) {
      await this.setStatus(id, 'missed');
      this.logger.warn(`scheduled message ${id} missed: ${Math.round(lateness / 60_000)} min late`);
      return { outcome: 'missed' };
    }
    if (!row.agentId) {
      await this.setStatus(id, 'failed');
      this.logger.warn(`scheduled message ${id} failed: no edge agent relays its room`);
      return { outcome: 'no-agent' };
    }
    const [existing] = await this.dataSource.query(
      `SELECT id FROM edge_commands WHERE scheduled_message_id = $1 LIMIT 1`,
      [id],
    );
    if (!existing) {
      await this.edgeCommands.create(
        row.agentId,
        'send_message_now',
        { thread_id: threadIdOf(row.chatGuid), text: row.text },
        { scheduledMessageId: id },
      );
    }
    await this.setStatus(id, 'sent');
    return { outcome: 'sent' };
  }

  /**
   * Postgres is the source of truth: every scheduled row due soon gets its delayed job again
   * (enqueueing is idempotent by row id), which restores jobs Redis lost. First, message commands
   * past their deadline are failed, those of offline agents included, so a message sent to an
   * agent that never came back for it turns `failed`. Returns the number of jobs restored.
   */
  async sweep(now = new Date()): Promise<number> {
    await this.edgeCommands.expireOverdue();
    const rows: { id: string; text: string; sendAt: Date }[] = await this.dataSource.query(
      `SELECT id, text, send_at AS "sendAt" FROM scheduled_messages
       WHERE status = 'scheduled' AND send_at <= $1 ORDER BY send_at LIMIT 1000`,
      [new Date(now.getTime() + SWEEP_HORIZON_MS)],
    );
    let restored = 0;
    for (const row of rows) {
      if (await this.scheduled.ensureJob(row)) restored++;
    }
    if (restored) this.logger.warn(`sweep restored ${restored} scheduled-message jobs`);
    return restored;
  }

  private async setStatus(id: string, status: 'sent' | 'missed' | 'failed'): Promise<void> {
    await this.dataSource.query(
      `UPDATE scheduled_messages SET status = $2, updated_at = now() WHERE id = $1 AND status = 'scheduled'`,
      [id, status],
    );
  }
}

/** The chat id the edge knows (its own `chat_guid`), without our platform prefix. */
export function threadIdOf(chatGuid: string): string {
  return chatGuid.startsWith(IMESSAGE_PREFIX) ? chatGuid.slice(IMESSAGE_PREFIX.length) : chatGuid;
}
