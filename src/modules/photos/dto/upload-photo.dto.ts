import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsHandle, NormalHandle } from '../../../common/validation/handle.validator';
import { PHOTO_STATUSES, PhotoStatus } from '../entities/photo.entity';

/** `POST /photos/upload` (relay): the query; the image is the multipart `file` part. */
export class UploadPhotoQueryDto {
  @ApiProperty({ example: '+15557654321', description: 'The sender (E.164 or Apple ID email)' })
  @NormalHandle()
  @IsHandle()
  user_phone!: string;

  @ApiProperty({ example: 'iMessage;-;+15557654321' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  chat_guid!: string;

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: 'Default: guessed from the chat GUID (`chat…` ids are groups)',
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  is_group?: 'true' | 'false';

  @ApiPropertyOptional({ description: 'The message text sent with the photo' })
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  caption?: string;
}

/**
 * `POST /photo/upload` (edge): the text parts of the multipart body, as the edge client sends
 * them (EDGE_PROTOCOL §5). Every value is a string on the wire.
 */
export class EdgePhotoFieldsDto {
  @ApiProperty({ example: '+15557654321', description: "The sender's handle" })
  @NormalHandle()
  @IsHandle()
  user_phone!: string;

  @ApiProperty({ description: "Must equal the edge token's agent id when it carries one" })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  edge_agent_id!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(256)
  attachment_guid?: string;

  @ApiProperty({ example: 'chat123456789012345678', description: '`+1…`/email or `chat<digits>`' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  chat_guid!: string;

  @ApiPropertyOptional({ enum: ['true', 'false'] })
  @IsOptional()
  @IsIn(['true', 'false'])
  is_group?: 'true' | 'false';

  @ApiPropertyOptional({ description: 'The message text; U+FFFC characters are removed' })
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  caption?: string;

  @ApiPropertyOptional({ description: 'JSON array of member handles (groups)' })
  @IsOptional()
  @IsString()
  participants?: string;

  @ApiPropertyOptional({ description: 'JSON object: the chat’s local context' })
  @IsOptional()
  @IsString()
  context?: string;
}

/** Swagger's picture of the multipart body of `/photo/upload`. */
export const EDGE_UPLOAD_BODY_SCHEMA = {
  type: 'object',
  required: ['file', 'user_phone', 'edge_agent_id', 'chat_guid'],
  properties: {
    file: { type: 'string', format: 'binary' },
    user_phone: { type: 'string' },
    edge_agent_id: { type: 'string' },
    attachment_guid: { type: 'string' },
    chat_guid: { type: 'string' },
    is_group: { type: 'string', enum: ['true', 'false'] },
    caption: { type: 'string' },
    participants: { type: 'string', description: 'JSON array of handles' },
    context: { type: 'string', description: 'JSON object' },
  },
};

export const FILE_ONLY_BODY_SCHEMA = {
  type: 'object',
  required: ['file'],
  properties: { file: { type: 'string', format: 'binary' } },
};

export class UploadPhotoResponseDto {
  @ApiProperty({ format: 'uuid' }) photo_id!: string;

  @ApiProperty({
    enum: PHOTO_STATUSES,
    description: '`processing`: analysis queued; `stored`: a group photo kept until addressed',
  })
  status!: PhotoStatus;
}
