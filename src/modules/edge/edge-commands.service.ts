import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import {
  CommandPayloadError,
  EDGE_COMMAND_PRIORITIES,
  EdgeCommandPayloads,
  EdgeCommandPriority,
  EdgeCommandType,
  validateCommandPayload,
} from './command-payloads';
import { Coalescer } from './edge-batch';
import {
  AppliedAck,
  ClaimMode,
  EdgeAckInput,
  EdgeCommand,
  EdgeCommandsRepository,
  NewEdgeCommand,
} from './edge-commands.repository';
import { CommandsReadyMessage, edgeChannels } from './edge-pubsub';
import { EDGE_TIMINGS, EdgeTimings } from './edge-timings';

/** The id rule of agent ids everywhere (heartbeat, WS, register): printable, no spaces. */
export const EDGE_AGENT_ID = /^[\w.:@+-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** How many commands one push sends at most; the rest follow in the next round. */
export const CLAIM_BATCH = 200;
/** Overdue commands failed per statement by `expireOverdue` (it loops until none are left). */
const EXPIRE_BATCH = 500;

export interface CreateCommandOptions {
  priority?: EdgeCommandPriority;
  /** Links the command to the scheduled message it carries (see `onAck`). */
  scheduledMessageId?: string | null;
}

/** `command_ack` data as the edge sends it (EDGE_PROTOCOL §4.2). */
export interface EdgeAck {
  command_id: unknown;
  status: unknown;
  completed_at?: unknown;
  error?: unknown;
}

/**
 * What an acknowledgement (or the lack of one) did to a command:
 * - `received`: the first ack. For `schedule_message` it means "stored on the Mac"; for every
 *   other type, "executed" (for `send_message_now`: sent).
 * - `delivered`: the second ack of a `schedule_message`: the Mac sent (or failed to send) it.
 * - `expired`: never acknowledged after the maximum number of sends: marked failed.
 * `final` is true when no further ack is expected: then `ok` is the command's outcome.
 */
export interface EdgeCommandAckEvent {
  command: EdgeCommand;
  stage: 'received' | 'delivered' | 'expired';
  ok: boolean;
  final: boolean;
  error: string | null;
  /** The edge's `completed_at`, when it sent one. */
  completedAt: Date | null;
}

export type EdgeAckListener = (event: EdgeCommandAckEvent) => void | Promise<void>;

/**
 * The edge command queue: commands are validated, stored (Postgres is the source of truth), and
 * announced on Redis so that the API instance holding the agent's socket pushes them. Works in any
 * process (API or worker): the push itself is the gateway's job.
 */
@Injectable()
export class EdgeCommandsService {
  private readonly logger = new Logger(EdgeCommandsService.name);
  private readonly listeners = new Set<EdgeAckListener>();
  private readonly channels: ReturnType<typeof edgeChannels>;
  /**
   * Commands created, and acks received, at about the same time are written together, one
   * statement per round (see Coalescer). Should a round fail as a whole (e.g. one bad row, an
   * unreadable send_at, a deadlock), its items are written one by one: each gets its own outcome.
   */
  private readonly inserts = new Coalescer<NewEdgeCommand, EdgeCommand>(async (_, items) => {
    const write = async (inputs: NewEdgeCommand[]) => {
      const rows = await this.commands.insert(inputs);
      for (const input of inputs) {
        const row = rows.get(input.id);
        const waiter = items.get(input.id)!;
        if (row) waiter.resolve(row);
        else waiter.reject(new Error(`command ${input.id} not stored`));
      }
    };
    const inputs = [...items.values()].map((i) => i.item);
    try {
      await write(inputs);
    } catch (err) {
      if (inputs.length === 1) throw err;
      await Promise.all(
        inputs.map((input) => write([input]).catch((e) => items.get(input.id)!.reject(e))),
      );
    }
  });
  private readonly acks = new Coalescer<EdgeAckInput, AppliedAck | undefined>(async (_, items) => {
    const write = async (inputs: EdgeAckInput[]) => {
      const applied = await this.commands.applyAcks(inputs);
      for (const input of inputs) items.get(input.commandId)!.resolve(applied.get(input.commandId));
    };
    const inputs = [...items.values()].map((i) => i.item);
    try {
      await write(inputs);
    } catch (err) {
      if (inputs.length === 1) throw err;
      await Promise.all(
        inputs.map((input) => write([input]).catch((e) => items.get(input.commandId)!.reject(e))),
      );
    }
  });

  constructor(
    private readonly commands: EdgeCommandsRepository,
    private readonly redis: Redis,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(EDGE_TIMINGS) private readonly timings: EdgeTimings,
  ) {
    this.channels = edgeChannels(config);
  }

  /**
   * Queues a command for the agent (created if unknown) and announces it. Throws a
   * CommandPayloadError naming the problem when the edge would refuse or misroute the payload.
   * The returned row is `pending`; it is pushed at once if the agent is connected anywhere, else
   * when it connects.
   */
  create<T extends EdgeCommandType>(
    agentId: string,
    type: T,
    payload: EdgeCommandPayloads[T],
    options?: CreateCommandOptions,
  ): Promise<EdgeCommand>;
  create(
    agentId: string,
    type: string,
    payload: unknown,
    options?: CreateCommandOptions,
  ): Promise<EdgeCommand>;
  async create(
    agentId: string,
    type: string,
    payload: unknown,
    options: CreateCommandOptions = {},
  ): Promise<EdgeCommand> {
    if (typeof agentId !== 'string' || !EDGE_AGENT_ID.test(agentId)) {
      throw new CommandPayloadError('agent id must be 1–128 characters of [A-Za-z0-9_.:@+-]');
    }
    const priority = options.priority ?? 'normal';
    if (!EDGE_COMMAND_PRIORITIES.includes(priority)) {
      throw new CommandPayloadError(
        `priority must be one of ${EDGE_COMMAND_PRIORITIES.join(', ')}`,
      );
    }
    const scheduledMessageId = options.scheduledMessageId ?? null;
    if (scheduledMessageId !== null && !UUID.test(scheduledMessageId)) {
      throw new CommandPayloadError('scheduledMessageId must be a uuid');
    }
    const clean = validateCommandPayload(type, payload);
    const grace = this.timings.messageGraceMs;
    const expiresAt =
      type === 'send_message_now'
        ? new Date(Date.now() + grace)
        : type === 'schedule_message'
          ? new Date(new Date(clean.send_at as string).getTime() + grace)
          : null;
    // One statement (with the commands created meanwhile): the agent row is created with the
    // command when unknown.
    const id = randomUUID();
    const command = await this.inserts.submit('', id, {
      id,
      agentId,
      commandType: type as EdgeCommandType,
      payload: clean,
      priority,
      scheduledMessageId,
      expiresAt,
    });
    this.logger.log(`queued ${command.commandType} ${command.id} for ${agentId}`);
    await this.announce(agentId);
    return command;
  }

  /**
   * Tells every API instance that the agent has commands waiting; the one holding its socket
   * pushes them. A failed publish is not an error: the command stays queued and goes out at the
   * next sweep (≤ 5 s when the agent is connected) or when the agent connects.
   */
  async announce(agentId: string): Promise<void> {
    const message: CommandsReadyMessage = { agentId };
    await this.redis
      .publish(this.channels.commands, JSON.stringify(message))
      .catch((err: Error) =>
        this.logger.warn(`commands for ${agentId} not announced (redis): ${err.message}`),
      );
  }

  /**
   * Marks the agent's next commands delivered and returns them in send order, to be pushed by the
   * caller (the gateway, or `/edge/sync`). Commands sent the maximum number of times without an
   * ack are marked failed first (listeners get `expired`).
   */
  async claimForSend(agentId: string, mode: ClaimMode): Promise<EdgeCommand[]> {
    return (await this.claimForSendMany([agentId], mode)).get(agentId) ?? [];
  }

  /**
   * `claimForSend` for many agents at once (two statements at most, whatever their number): by
   * agent, each agent's commands in send order, at most CLAIM_BATCH each.
   */
  async claimForSendMany(
    agentIds: readonly string[],
    mode: ClaimMode,
  ): Promise<Map<string, EdgeCommand[]>> {
    const options = {
      resendAfterMs: this.timings.resendAfterMs,
      maxAttempts: this.timings.maxAttempts,
    };
    if (mode !== 'new') {
      await this.announceExpired(await this.commands.expireUnacked(agentIds, options));
    }
    return this.commands.claim(agentIds, mode, { ...options, limit: CLAIM_BATCH });
  }

  /**
   * Fails the message commands past their `expires_at` whatever their agent, also one that stays
   * offline (whose commands are otherwise only looked at when it connects), so a scheduled
   * message waiting on one reads `failed` instead of `sent` for ever. Run by the
   * scheduled-messages sweep; returns how many it failed.
   */
  async expireOverdue(): Promise<number> {
    let failed = 0;
    for (;;) {
      const expired = await this.commands.expireOverdue(EXPIRE_BATCH);
      await this.announceExpired(expired);
      failed += expired.length;
      if (expired.length < EXPIRE_BATCH) return failed;
    }
  }

  private async announceExpired(expired: EdgeCommand[]): Promise<void> {
    for (const command of expired) {
      this.logger.warn(
        `${command.commandType} ${command.id} for ${command.agentId}: ${command.error}`,
      );
      await this.emit({
        command,
        stage: 'expired',
        ok: false,
        final: true,
        error: command.error,
        completedAt: null,
      });
    }
  }

  /** Of these agents, those with commands to push now (new, or overdue for a resend). */
  agentsWithWork(agentIds: string[]): Promise<string[]> {
    return this.commands.agentsWithWork(agentIds, this.timings.resendAfterMs);
  }

  /**
   * Records an acknowledgement from the agent. The first ack marks the command `acked` (or
   * `failed`); for a `schedule_message` the second one sets `delivered_at` (or `failed`). An ack
   * for an unknown command, another agent's command, or a repeat, changes nothing but the count.
   * Returns what happened (also passed to the `onAck` listeners), or null.
   */
  async ack(agentId: string, ack: EdgeAck): Promise<EdgeCommandAckEvent | null> {
    const commandId = ack.command_id;
    if (typeof commandId !== 'string' || !UUID.test(commandId)) {
      this.logger.debug(`ack from ${agentId} ignored: command_id ${JSON.stringify(commandId)}`);
      return null;
    }
    if (ack.status !== 'completed' && ack.status !== 'failed') {
      this.logger.debug(
        `ack from ${agentId} for ${commandId} ignored: status ${String(ack.status)}`,
      );
      return null;
    }
    const ok = ack.status === 'completed';
    const error = ok
      ? null
      : typeof ack.error === 'string' && ack.error
        ? ack.error.slice(0, 2000)
        : 'failed on the edge (no error given)';
    const completedAt = parseTime(ack.completed_at);

    // One conditional UPDATE (with the acks received meanwhile): the repository decides from
    // the locked row (see applyAcks).
    const result = await this.acks.submit('', commandId, {
      commandId,
      agentId,
      ok,
      error,
      completedAt,
      now: new Date(),
    });
    if (!result) {
      this.logger.debug(`ack from ${agentId} ignored: no command ${commandId} of this agent`);
      return null;
    }
    if (!result.stage) {
      this.logger.debug(
        `repeated ack of ${commandId} from ${agentId} (ack #${result.command.ackCount})`,
      );
      return null;
    }
    const isSchedule = result.command.commandType === 'schedule_message';
    const done: EdgeCommandAckEvent = {
      command: result.command,
      stage: result.stage,
      ok,
      // A stored schedule_message waits for its second ack (the send).
      final: result.stage === 'delivered' || !(isSchedule && ok),
      error,
      completedAt,
    };
    if (!ok)
      this.logger.warn(`${done.command.commandType} ${commandId} failed on ${agentId}: ${error}`);
    await this.emit(done);
    return done;
  }

  /**
   * Subscribes to acknowledgements (and expiries) of every command, on this instance: acks land
   * on the instance holding the socket (or serving `/edge/command/ack`). Listeners run after the
   * row is updated; an error in one is logged and never reaches the edge. Returns the unsubscribe.
   *
   * E.g. a scheduled-messages module, in its onModuleInit:
   * `edgeCommands.onAck((e) => e.final && e.command.scheduledMessageId && mark(e.ok ? 'delivered' : 'failed'))`
   */
  onAck(listener: EdgeAckListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  find(commandId: string): Promise<EdgeCommand | undefined> {
    return UUID.test(commandId) ? this.commands.find(commandId) : Promise.resolve(undefined);
  }

  listForAgent(
    agentId: string,
    options: { status?: EdgeCommand['status']; limit?: number } = {},
  ): Promise<EdgeCommand[]> {
    return this.commands.listForAgent(agentId, { ...options, limit: options.limit ?? 100 });
  }

  private async emit(event: EdgeCommandAckEvent): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(event);
      } catch (err) {
        this.logger.error(`ack listener failed for ${event.command.id}: ${(err as Error).message}`);
      }
    }
  }
}

/** The wire form of a command: `{"type":"command","data": <this>}` (EDGE_PROTOCOL §4.1). */
export function toWireCommand(command: EdgeCommand): {
  command_id: string;
  command_type: EdgeCommandType;
  payload: Record<string, unknown>;
  timestamp: string;
  priority: EdgeCommandPriority;
} {
  return {
    command_id: command.id,
    command_type: command.commandType,
    payload: command.payload,
    timestamp: command.createdAt.toISOString(),
    priority: command.priority,
  };
}

function parseTime(value: unknown): Date | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}
