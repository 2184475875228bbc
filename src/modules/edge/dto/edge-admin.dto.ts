import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsObject, IsOptional, Max, Min } from 'class-validator';
import { Type } from 'class-transformer';
import {
  EDGE_COMMAND_PRIORITIES,
  EDGE_COMMAND_TYPES,
  EdgeCommandPriority,
  EdgeCommandType,
} from '../command-payloads';
import { EdgeCommandStatus } from '../entities/edge-command.entity';
import { EdgeCommandViewDto } from './edge-command.view';

export class CreateEdgeCommandDto {
  @ApiProperty({ enum: EDGE_COMMAND_TYPES })
  @IsIn(EDGE_COMMAND_TYPES, {
    message: `command_type must be one of ${EDGE_COMMAND_TYPES.join(', ')}`,
  })
  command_type!: EdgeCommandType;

  @ApiProperty({
    type: Object,
    example: { thread_id: '+15551234567', text: 'hey!' },
    description:
      'The fields of EDGE_PROTOCOL §4.1 for the type; chat ids exactly as the edge sent them',
  })
  @IsObject()
  payload!: Record<string, unknown>;

  @ApiPropertyOptional({ enum: EDGE_COMMAND_PRIORITIES, default: 'normal' })
  @IsOptional()
  @IsIn(EDGE_COMMAND_PRIORITIES)
  priority?: EdgeCommandPriority;
}

export class ListEdgeCommandsQueryDto {
  @ApiPropertyOptional({ enum: ['pending', 'delivered', 'acked', 'failed'] })
  @IsOptional()
  @IsIn(['pending', 'delivered', 'acked', 'failed'])
  status?: EdgeCommandStatus;

  @ApiPropertyOptional({ default: 100, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class EdgeAgentViewDto {
  @ApiProperty({ example: 'luna1' }) id!: string;
  @ApiProperty({ type: String, nullable: true, example: 'luna' }) persona_id!: string | null;
  @ApiProperty({ type: String, nullable: true }) phone!: string | null;
  @ApiProperty({ type: String, nullable: true }) version!: string | null;
  @ApiProperty({ description: 'Its WebSocket is open on some API instance (Redis presence)' })
  connected!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'The instance holding the socket' })
  connected_instance!: string | null;
  @ApiProperty({ type: String, nullable: true }) connected_at!: string | null;
  @ApiProperty() last_seen_at!: string;
  @ApiProperty() created_at!: string;
  @ApiProperty({ description: 'Commands queued, never sent' }) pending_commands!: number;
  @ApiProperty({ description: 'Commands sent, awaiting their ack' }) unacked_commands!: number;
}

export class EdgeAgentListDto {
  @ApiProperty({ type: [EdgeAgentViewDto] }) agents!: EdgeAgentViewDto[];
}

export class EdgeCommandListDto {
  @ApiProperty({ type: [EdgeCommandViewDto] }) commands!: EdgeCommandViewDto[];
}
