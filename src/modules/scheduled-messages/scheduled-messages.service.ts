import {
  ConflictException,
  Injectable,
  Logger,
  NotFoundException,
  OnModuleInit,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { JobName } from '../../core/queue/queue.constants';
import { QueueService } from '../../core/queue/queue.service';
import { EdgeCommandsService } from '../edge/edge-commands.service';
import { ScheduledMessageStatus } from './entities/scheduled-message.entity';

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

export interface ScheduledMessageView extends ScheduledMessageRow {
  roomId: string;
  status: ScheduledMessageStatus;
  createdAt: Date;
  updatedAt: Date;
}

@Injectable()
export class ScheduledMessagesService implements OnModuleInit {
  private readonly logger = new Logger(ScheduledMessagesService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queues: QueueService,
    private readonly edgeCommands: EdgeCommandsService,
  ) {}

  /**
   * The edge acknowledges the `send_message_now` carrying a scheduled message once it has sent
   * it: that is delivery. Acks land on the API instance holding the agent's socket, and may do so
   * before the worker that created the command has marked the row `sent` (a fast agent, a busy
   * worker): `scheduled` counts too, and the worker's later `scheduled → sent` then finds nothing
   * to change. Only a command created for the row can be acked, so a `scheduled` row acked here
   * was sent.
   */
  onModuleInit(): void {
    this.edgeCommands.onAck(async (event) => {
      const id = event.command.scheduledMessageId;
      if (!id || !event.final) return;
      await this.dataSource.query(
        `UPDATE scheduled_messages SET status = $2, updated_at = now()
         WHERE id = $1 AND status IN ('scheduled', 'sent')`,
        [id, event.ok ? 'delivered' : 'failed'],
      );
    });
  }

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
   * A failure here is logged, not thrown: the row is the source of truth and the sweep of the
   * scheduled-messages worker enqueues it again.
   */
  async enqueue(row: ScheduledMessageRow): Promise<void> {
    try {
      await this.queues.enqueue(
        JobName.ScheduledMessageSend,
        { scheduledMessageId: row.id },
        { key: row.id, delayMs: new Date(row.sendAt).getTime() - Date.now() },
      );
    } catch (err) {
      this.logger.warn(`could not enqueue scheduled message ${row.id}: ${(err as Error).message}`);
    }
  }

  /** Makes sure a due row has a live job; true when one had to be (re)created. */
  async ensureJob(row: ScheduledMessageRow): Promise<boolean> {
    const state = await this.queues.jobState(JobName.ScheduledMessageSend, row.id);
    if (state !== 'unknown' && state !== 'failed') return false;
    if (state === 'failed') await this.queues.removeJob(JobName.ScheduledMessageSend, row.id);
    await this.enqueue(row);
    return true;
  }

  async list(filter: {
    roomId?: string;
    status?: ScheduledMessageStatus;
  }): Promise<ScheduledMessageView[]> {
    return this.dataSource.query(
      `SELECT id, room_id AS "roomId", text, send_at AS "sendAt", status, created_at AS "createdAt",
              updated_at AS "updatedAt"
       FROM scheduled_messages
       WHERE ($1::uuid IS NULL OR room_id = $1) AND ($2::text IS NULL OR status = $2)
       ORDER BY send_at LIMIT 500`,
      [filter.roomId ?? null, filter.status ?? null],
    );
  }

  /** Cancels a message that has not gone out yet; its job is removed. */
  async cancel(id: string): Promise<ScheduledMessageView> {
    const [rows] = await this.dataSource.query(
      `UPDATE scheduled_messages SET status = 'cancelled', updated_at = now()
       WHERE id = $1 AND status = 'scheduled' RETURNING id`,
      [id],
    );
    if (!rows.length) throw await this.notPending(id);
    await this.queues.removeJob(JobName.ScheduledMessageSend, id);
    return this.get(id);
  }

  /** Moves a message that has not gone out yet to a new time (stored in UTC). */
  async reschedule(id: string, sendAt: Date): Promise<ScheduledMessageView> {
    const [rows] = await this.dataSource.query(
      `UPDATE scheduled_messages SET send_at = $2, updated_at = now()
       WHERE id = $1 AND status = 'scheduled' RETURNING id, text, send_at AS "sendAt"`,
      [id, sendAt],
    );
    if (!rows.length) throw await this.notPending(id);
    await this.queues.removeJob(JobName.ScheduledMessageSend, id);
    await this.enqueue(rows[0]);
    return this.get(id);
  }

  async get(id: string): Promise<ScheduledMessageView> {
    const [row] = await this.dataSource.query(
      `SELECT id, room_id AS "roomId", text, send_at AS "sendAt", status, created_at AS "createdAt",
              updated_at AS "updatedAt" FROM scheduled_messages WHERE id = $1`,
      [id],
    );
    if (!row) throw new NotFoundException(`No scheduled message ${id}`);
    return row;
  }

  private async notPending(id: string): Promise<Error> {
    const row = await this.get(id); // throws 404 when unknown
    return new ConflictException(`Scheduled message ${id} is ${row.status}, no longer pending`);
  }
}
