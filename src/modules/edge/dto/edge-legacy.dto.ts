import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { EdgeWireCommandDto } from './edge-command.view';

/**
 * The Nov 2025 (V0) client's registration body (EDGE_PROTOCOL §2.4); every field it sends is
 * declared, since unknown fields are refused.
 */
export class EdgeRegisterDto {
  @ApiProperty({ example: '+15551234567', description: "The agent's own iMessage number" })
  @IsString()
  @Matches(/^\+?[0-9]{5,20}$/, { message: 'user_phone must be a phone number like +15551234567' })
  user_phone!: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  apple_id?: string | null;

  @ApiPropertyOptional({ example: '2.0.0' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  version?: string;

  @ApiPropertyOptional({ type: [String], example: ['transport', 'scheduler'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  capabilities?: string[];

  @ApiPropertyOptional({
    description:
      'V0 REGISTRATION_TOKEN: checked against EDGE_REGISTRATION_TOKEN when no Bearer is sent',
  })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  auth_token?: string;

  @ApiPropertyOptional({ description: 'Later variant of auth_token; ignored' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  registration_token?: string;
}

export class EdgeRegisterReplyDto {
  @ApiProperty({ example: 'edge_15551234567' }) edge_agent_id!: string;
}

/** `POST /edge/sync` of the V0 client (EDGE_PROTOCOL §4.4). */
export class EdgeSyncDto {
  @ApiProperty({ example: 'edge_15551234567' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  @Matches(/^[\w.:@+-]+$/, { message: 'edge_agent_id has characters outside [A-Za-z0-9_.:@+-]' })
  edge_agent_id!: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  last_command_id?: string | null;

  @ApiPropertyOptional({ type: [Object], description: 'Always empty in practice' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @IsObject({ each: true })
  pending_events?: Record<string, unknown>[];

  @ApiPropertyOptional({
    type: Object,
    example: { scheduled_messages: 0, active_rules: 0, uptime_seconds: 120 },
  })
  @IsOptional()
  @IsObject()
  status?: Record<string, unknown>;
}

export class EdgeSyncReplyDto {
  @ApiProperty({ type: [EdgeWireCommandDto], description: 'Pending commands, in send order' })
  commands!: EdgeWireCommandDto[];
  @ApiProperty({ type: [String], description: 'event_id of each pending_events entry received' })
  ack_events!: string[];
  @ApiProperty({ type: Object, example: {} }) config_updates!: Record<string, unknown>;
}

/** `POST /edge/command/ack` of the V0 client, used while its WebSocket was down. */
export class EdgeLegacyAckDto {
  @ApiProperty({ format: 'uuid' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  command_id!: string;

  @ApiProperty()
  @IsBoolean()
  success!: boolean;

  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  error?: string | null;

  @ApiPropertyOptional({ description: 'ISO 8601' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timestamp?: string;
}

export class EdgeLegacyAckReplyDto {
  @ApiProperty({ example: 'ok' }) status!: 'ok';
  @ApiProperty({ description: 'False when the command is unknown, foreign or already acked' })
  recorded!: boolean;
}
