import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { JobName } from '../../core/queue/queue.constants';
import { QueueService } from '../../core/queue/queue.service';

export interface NewScheduledMessage {
  roomId: string;
  assistantInstanceId: string;
  requestedByUserId: string;
  sourceMessageId: string;
  text: string;
  sendAt: Date;
}

export interface ScheduledMessageRow {
  id: string;
  text: string;
  sendAt: Date;
}

@Injectable()
export class ScheduledMessagesService {
  private readonly logger = new Logger(ScheduledMessagesService.name);

  constructor(private readonly queues: QueueService) {}

  /** The row, written in the caller's transaction; call `enqueue` once it has committed. */
  async create(manager: EntityManager, input: NewScheduledMessage): Promise<ScheduledMessageRow> {
    const [row] = await manager.query(
      `INSERT INTO scheduled_messages (room_id, assistant_instance_id, requested_by_user_id, source_message_id, text, send_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, text, send_at AS "sendAt"`,
      [
        input.roomId,
        input.assistantInstanceId,
        input.requestedByUserId,
        input.sourceMessageId,
        input.text,
        input.sendAt,
      ],
    );
    return row as ScheduledMessageRow;
  }

  /**
   * The delayed job that fires at send_at, keyed by the row id (enqueueing twice makes one job).
   * A failure here is logged, not thrown: the row is the source of truth and is re-enqueued from
   * Postgres.
   */
  async enqueue(row: ScheduledMessageRow): Promise<void> {
    try {
      await this.queues.enqueue(
        JobName.ScheduledMessageSend,
        { scheduledMessageId: row.id },
        { key: row.id, delayMs: row.sendAt.getTime() - Date.now() },
      );
    } catch (err) {
      this.logger.warn(`could not enqueue scheduled message ${row.id}: ${(err as Error).message}`);
    }
  }
}
