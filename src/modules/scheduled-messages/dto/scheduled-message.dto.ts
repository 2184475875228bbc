import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsUUID } from 'class-validator';
import { ScheduledMessageView } from '../scheduled-messages.service';

const STATUSES = ['scheduled', 'sent', 'delivered', 'cancelled', 'missed', 'failed'] as const;

export class ListScheduledMessagesQuery {
  @ApiPropertyOptional() @IsOptional() @IsUUID() room_id?: string;
  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: (typeof STATUSES)[number];
}

export class RescheduleDto {
  @ApiProperty({ description: 'ISO 8601 with Z or an offset', example: '2026-11-25T09:00:00Z' })
  @IsISO8601({ strict: true })
  send_at!: string;
}

export class ScheduledMessageDto {
  @ApiProperty() id!: string;
  @ApiProperty() room_id!: string;
  @ApiProperty() text!: string;
  @ApiProperty({ description: 'UTC' }) send_at!: string;
  @ApiProperty({ enum: STATUSES }) status!: string;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;

  static from(row: ScheduledMessageView): ScheduledMessageDto {
    return {
      id: row.id,
      room_id: row.roomId,
      text: row.text,
      send_at: new Date(row.sendAt).toISOString(),
      status: row.status,
      created_at: new Date(row.createdAt).toISOString(),
      updated_at: new Date(row.updatedAt).toISOString(),
    };
  }
}
