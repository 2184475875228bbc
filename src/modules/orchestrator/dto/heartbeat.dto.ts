import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class HeartbeatDto {
  @ApiPropertyOptional({ example: 'luna1' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(/^[\w.:@+-]+$/, { message: 'edge_agent_id has characters outside [A-Za-z0-9_.:@+-]' })
  edge_agent_id?: string;
}

export class HeartbeatReplyDto {
  @ApiProperty({ example: 'ok' }) status!: 'ok';
  @ApiProperty({ description: 'ISO 8601, UTC' }) server_time!: string;
}
