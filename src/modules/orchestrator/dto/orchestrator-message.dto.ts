import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { IsHandle, NormalHandle } from '../../../common/validation/handle.validator';

/** `POST /orchestrator/message` (SPEC §6, the seeds' relay contract). */
export class OrchestratorMessageDto {
  @ApiProperty({
    example: 'iMessage;-;+15551234567',
    description: 'Plain chat GUID; stored as `imessage:<guid>`',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  chat_guid!: string;

  @ApiProperty({ enum: ['direct', 'group'] })
  @IsIn(['direct', 'group'])
  mode!: 'direct' | 'group';

  @ApiProperty({ example: '+15551234567', description: 'E.164 phone or Apple ID email' })
  @NormalHandle()
  @IsHandle()
  sender!: string;

  @ApiProperty({ maxLength: 10_000 })
  @IsString()
  @MaxLength(10_000)
  text!: string;

  @ApiProperty({ description: 'Unix seconds or milliseconds', example: 1764000000 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1e14)
  timestamp!: number;

  @ApiProperty({ type: [String], maxItems: 100 })
  @NormalHandle()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(320, { each: true })
  participants!: string[];

  @ApiPropertyOptional({
    description: 'The iMessage GUID: a repeated GUID returns the first reply',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  message_guid?: string;

  @ApiPropertyOptional({
    example: 'sage',
    description: 'Unknown ids fall back to the default persona',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  persona_id?: string;

  @ApiPropertyOptional({ type: [Object], maxItems: 20 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsObject({ each: true })
  attachments?: Record<string, unknown>[];

  @ApiPropertyOptional({
    description:
      '`is_first_message`, `mentioned_sage` (or `mentioned_<persona>`), `has_attachment`, `attachment_type`, `photo_id`, `reply_to_assistant`',
  })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
}

export class RelayReplyMetadataDto {
  @ApiProperty() room_id!: string;
  @ApiProperty() assistant_instance_id!: string;
  @ApiProperty({ enum: ['direct', 'group'] }) room_type!: 'direct' | 'group';
  @ApiProperty() participants_count!: number;
}

export class ScheduledMessageSummaryDto {
  @ApiProperty() schedule_id!: string;
  @ApiProperty({ description: 'UTC, ISO 8601' }) send_at!: string;
  @ApiProperty() text!: string;
}

export class OrchestratorReplyDto {
  @ApiProperty() should_respond!: boolean;
  @ApiProperty({ type: String, nullable: true }) reply_text!: string | null;
  @ApiProperty({ type: [String] }) reply_bubbles!: string[];
  @ApiProperty({ type: ScheduledMessageSummaryDto, nullable: true })
  schedule_message!: ScheduledMessageSummaryDto | null;
  @ApiProperty({ type: RelayReplyMetadataDto }) metadata!: RelayReplyMetadataDto;
}
