import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  EDGE_COMMAND_PRIORITIES,
  EDGE_COMMAND_TYPES,
  EdgeCommandPriority,
  EdgeCommandType,
} from '../command-payloads';
import { EdgeCommand } from '../edge-commands.repository';
import { EdgeCommandStatus } from '../entities/edge-command.entity';

/** A command as the edge receives it: `{"type":"command","data": <this>}` (EDGE_PROTOCOL §4.1). */
export class EdgeWireCommandDto {
  @ApiProperty({ format: 'uuid', description: 'Echoed in the ack' }) command_id!: string;
  @ApiProperty({ enum: EDGE_COMMAND_TYPES }) command_type!: EdgeCommandType;
  @ApiProperty({ type: Object, description: 'Per-type fields (EDGE_PROTOCOL §4.1)' })
  payload!: Record<string, unknown>;
  @ApiProperty({ description: 'ISO 8601, UTC: when the command was queued' }) timestamp!: string;
  @ApiProperty({ enum: EDGE_COMMAND_PRIORITIES }) priority!: EdgeCommandPriority;
}

/** A stored command, for operators. */
export class EdgeCommandViewDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'Send order' }) seq!: number;
  @ApiProperty() agent_id!: string;
  @ApiProperty({ enum: EDGE_COMMAND_TYPES }) command_type!: EdgeCommandType;
  @ApiProperty({ type: Object }) payload!: Record<string, unknown>;
  @ApiProperty({ enum: EDGE_COMMAND_PRIORITIES }) priority!: EdgeCommandPriority;
  @ApiProperty({
    enum: ['pending', 'delivered', 'acked', 'failed'],
    description: 'pending: queued; delivered: pushed, awaiting its ack; acked; failed',
  })
  status!: EdgeCommandStatus;
  @ApiProperty({ description: 'Times pushed to the agent' }) attempts!: number;
  @ApiProperty({ type: String, nullable: true }) last_sent_at!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'First ack' })
  acked_at!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Second ack of a schedule_message: actually sent',
  })
  delivered_at!: string | null;
  @ApiProperty() ack_count!: number;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, format: 'uuid' })
  scheduled_message_id!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Message commands: never pushed after this (failed instead); null = no deadline',
  })
  expires_at!: string | null;
  @ApiProperty() created_at!: string;
}

export function toEdgeCommandView(command: EdgeCommand): EdgeCommandViewDto {
  return {
    id: command.id,
    seq: command.seq,
    agent_id: command.agentId,
    command_type: command.commandType,
    payload: command.payload,
    priority: command.priority,
    status: command.status,
    attempts: command.attempts,
    last_sent_at: command.lastSentAt?.toISOString() ?? null,
    acked_at: command.ackedAt?.toISOString() ?? null,
    delivered_at: command.deliveredAt?.toISOString() ?? null,
    ack_count: command.ackCount,
    error: command.error,
    scheduled_message_id: command.scheduledMessageId,
    expires_at: command.expiresAt?.toISOString() ?? null,
    created_at: command.createdAt.toISOString(),
  };
}
