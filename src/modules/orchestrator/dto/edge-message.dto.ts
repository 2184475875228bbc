import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { NormalHandle } from '../../../common/validation/handle.validator';

export class EdgeAttachmentDto {
  @ApiProperty() @IsString() @MaxLength(256) guid!: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) mime_type?: string;
  @ApiPropertyOptional({ type: Number, nullable: true })
  @IsOptional()
  @IsNumber()
  @Min(0)
  size_bytes?: number | null;
  @ApiProperty() @IsBoolean() is_photo!: boolean;
  @ApiProperty() @IsBoolean() skipped!: boolean;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) skip_reason?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) uploaded_photo_id?: string;
}

/** `POST /edge/message`: the body the deployed edge client sends (EDGE_PROTOCOL §6.1, V4+). */
export class EdgeMessageDto {
  @ApiProperty({
    example: '+15551234567',
    description: '`+1…`/email for direct chats, `chat<digits>` for groups',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  chat_guid!: string;

  @ApiProperty({ enum: ['direct', 'group'] })
  @IsIn(['direct', 'group'])
  mode!: 'direct' | 'group';

  @ApiProperty({ description: 'The sender handle; may be "unknown"' })
  @NormalHandle()
  @IsString()
  @IsNotEmpty()
  @MaxLength(320)
  sender!: string;

  @ApiProperty({ description: 'May be empty', maxLength: 10_000 })
  @IsString()
  @MaxLength(10_000)
  text!: string;

  @ApiProperty({ description: 'Unix seconds (milliseconds accepted)' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1e14)
  timestamp!: number;

  @ApiProperty({ type: [String] })
  @NormalHandle()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(320, { each: true })
  participants!: string[];

  @ApiPropertyOptional({ example: 'luna' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  persona_id?: string;

  @ApiPropertyOptional({ description: "The edge's own iMessage number" })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  persona_phone?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'The chat’s mini-app context, when one is active' })
  @IsOptional()
  @IsObject()
  context?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [EdgeAttachmentDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => EdgeAttachmentDto)
  attachments?: EdgeAttachmentDto[];
}

/** The six fields the edge client reads (EDGE_PROTOCOL §6.2), plus room metadata it ignores. */
export class EdgeReplyDto {
  @ApiProperty() should_respond!: boolean;
  @ApiProperty({ type: String, nullable: true }) reply_text!: string | null;
  @ApiProperty({ type: [String] }) reply_bubbles!: string[];
  @ApiProperty({ type: String, nullable: true, description: 'Unused: always null' })
  reflex_message!: string | null;
  @ApiProperty({ type: [String], description: 'Unused: always empty' }) burst_messages!: string[];
  @ApiProperty() burst_delay_ms!: number;
}
