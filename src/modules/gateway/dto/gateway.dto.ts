import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

export class TokenRequestDto {
  @ApiProperty({ description: 'The API key from /admin/clients (`ak_…`)' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  api_key!: string;
}

export class TokenResponseDto {
  @ApiProperty() access_token!: string;
  @ApiProperty({ example: 'bearer' }) token_type!: 'bearer';
  @ApiProperty({ description: 'Seconds until the token expires', example: 3600 })
  expires_in!: number;
}

export class ChatRequestDto {
  @ApiProperty({ example: 'remind me to call mom at 6' })
  @IsString()
  @Matches(/\S/, { message: 'message must not be blank' })
  @MaxLength(10_000)
  message!: string;

  @ApiPropertyOptional({ description: 'Continue a conversation (omit to start a new one)' })
  @IsOptional()
  @IsUUID()
  conversation_id?: string;

  @ApiPropertyOptional({ example: 'luna' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  persona_id?: string;

  @ApiPropertyOptional({ description: 'Answer as server-sent events, token by token' })
  @IsOptional()
  @IsBoolean()
  stream?: boolean;
}

export class ToolCallDto {
  @ApiProperty() name!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) arguments!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true }) result!: Record<string, unknown>;
}

export class ChatResponseDto {
  @ApiProperty() conversation_id!: string;
  @ApiProperty({ nullable: true, type: String }) message_id!: string | null;
  @ApiProperty({ nullable: true, type: String }) reply!: string | null;
  @ApiProperty({ type: [ToolCallDto] }) tool_calls!: ToolCallDto[];
}

export class HistoryQueryDto {
  @ApiProperty()
  @IsUUID()
  conversation_id!: string;

  @ApiPropertyOptional({ default: 20, minimum: 1, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `next_before` of the previous page' })
  @IsOptional()
  @IsUUID()
  before?: string;
}

export class SearchQueryDto {
  @ApiProperty({ description: 'Words to find (web-search syntax: "phrase", -word, or)' })
  @IsString()
  @Matches(/\S/, { message: 'q must not be blank' })
  @MaxLength(200)
  q!: string;

  @ApiPropertyOptional({ default: 10, minimum: 1, maximum: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  limit?: number;
}

export class HistoryMessageDto {
  @ApiProperty() id!: string;
  @ApiProperty() conversation_id!: string;
  @ApiProperty({ enum: ['user', 'assistant'] }) role!: 'user' | 'assistant';
  @ApiProperty() text!: string;
  @ApiProperty() created_at!: string;
}

export class HistoryPageDto {
  @ApiProperty({ type: [HistoryMessageDto] }) messages!: HistoryMessageDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `before` for older ones' })
  next_before!: string | null;
}

export class SearchHitDto extends HistoryMessageDto {
  @ApiProperty() rank!: number;
  @ApiProperty({ description: 'Matches wrapped in <mark>…</mark>' }) snippet!: string;
}

export class SearchResultDto {
  @ApiProperty({ type: [SearchHitDto] }) results!: SearchHitDto[];
}

export class ToolDto {
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'JSON Schema' })
  parameters!: Record<string, unknown>;
}

export class ToolsDto {
  @ApiProperty({ type: [ToolDto] }) tools!: ToolDto[];
}
