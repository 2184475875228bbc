import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { API_CLIENT_SCOPES, ApiClientRow, ApiClientScope } from '../api-clients.repository';
import { DailyUsage } from '../api-clients.repository';

export class CreateApiClientDto {
  @ApiProperty({ example: 'acme-mobile' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({ description: 'Requests per minute on /v1 (default 100)', example: 100 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  rate_limit_per_min?: number;

  @ApiPropertyOptional({ enum: API_CLIENT_SCOPES, isArray: true, default: API_CLIENT_SCOPES })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(API_CLIENT_SCOPES, { each: true })
  scopes?: ApiClientScope[];

  @ApiPropertyOptional({ description: 'LLM tokens per calendar month (UTC); none = unlimited' })
  @IsOptional()
  @IsInt()
  @Min(0)
  // Past 2^53 a JSON number is no longer the integer that was sent.
  @Max(Number.MAX_SAFE_INTEGER)
  monthly_token_budget?: number;
}

export class UpdateApiClientDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ nullable: true, description: 'null = the default (100/min)' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsInt()
  @Min(1)
  @Max(100_000)
  rate_limit_per_min?: number | null;

  @ApiPropertyOptional({ enum: API_CLIENT_SCOPES, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(API_CLIENT_SCOPES, { each: true })
  scopes?: ApiClientScope[];

  @ApiPropertyOptional({ nullable: true, description: 'null = unlimited' })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  monthly_token_budget?: number | null;

  @ApiPropertyOptional({ description: 'false: the key and every token stop working at once' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class UsageQueryDto {
  @ApiPropertyOptional({ default: 30, minimum: 1, maximum: 366 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(366)
  days?: number;
}

export class ApiClientDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'The public start of the key (12 characters)' }) key_prefix!: string;
  @ApiProperty({ enum: API_CLIENT_SCOPES, isArray: true }) scopes!: ApiClientScope[];
  @ApiProperty({ nullable: true, type: Number }) rate_limit_per_min!: number | null;
  @ApiProperty({ nullable: true, type: Number }) monthly_token_budget!: number | null;
  @ApiProperty() active!: boolean;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
  @ApiProperty({ nullable: true, type: String }) last_used_at!: string | null;
}

export class ApiClientWithKeyDto extends ApiClientDto {
  @ApiProperty({ description: 'Shown once: only its prefix and a bcrypt hash are stored' })
  api_key!: string;
}

export class DailyUsageDto {
  @ApiProperty({ example: '2025-11-29' }) day!: string;
  @ApiProperty() total_tokens!: number;
  @ApiProperty() prompt_tokens!: number;
  @ApiProperty() completion_tokens!: number;
  @ApiProperty({ description: 'LLM calls recorded in the usage ledger' }) llm_calls!: number;
  @ApiProperty({ description: 'Messages the client sent to /v1/chat' }) chat_requests!: number;
}

export class ApiClientUsageDto {
  @ApiProperty() client_id!: string;
  @ApiProperty({ type: [DailyUsageDto] }) days!: DailyUsageDto[];
}

export function toApiClientDto(row: ApiClientRow): ApiClientDto {
  return {
    id: row.id,
    name: row.name,
    key_prefix: row.keyPrefix,
    scopes: row.scopes,
    rate_limit_per_min: row.rateLimitPerMin,
    monthly_token_budget: row.monthlyTokenBudget,
    active: row.active,
    created_at: new Date(row.createdAt).toISOString(),
    updated_at: new Date(row.updatedAt).toISOString(),
    last_used_at: row.lastUsedAt ? new Date(row.lastUsedAt).toISOString() : null,
  };
}

export function toDailyUsageDto(row: DailyUsage): DailyUsageDto {
  return {
    day: row.day,
    total_tokens: row.totalTokens,
    prompt_tokens: row.promptTokens,
    completion_tokens: row.completionTokens,
    llm_calls: row.llmCalls,
    chat_requests: row.chatRequests,
  };
}
