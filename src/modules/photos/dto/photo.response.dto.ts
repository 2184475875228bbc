import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PHOTO_STATUSES, PhotoAnalysis, PhotoEntity, PhotoStatus } from '../entities/photo.entity';

export class PhotoAnalysisDto implements PhotoAnalysis {
  @ApiProperty() summary!: string;
  @ApiProperty({ type: [String] }) activities!: string[];
  @ApiProperty({ type: [String] }) people!: string[];
  @ApiProperty({ type: [String] }) places!: string[];
  @ApiProperty({ type: [String] }) preferences!: string[];
}

/** `GET /photos/:id`. */
export class PhotoResponseDto {
  @ApiProperty({ format: 'uuid' }) photo_id!: string;
  @ApiProperty({ enum: PHOTO_STATUSES }) status!: PhotoStatus;
  @ApiProperty({ type: PhotoAnalysisDto, nullable: true }) analysis!: PhotoAnalysisDto | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Why the analysis failed' })
  error!: string | null;
  @ApiProperty({ format: 'uuid' }) owner_user_id!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) room_id!: string | null;
  @ApiProperty({ example: 'imessage:chat123456789012345678' }) chat_guid!: string;
  @ApiProperty() is_group!: boolean;
  @ApiProperty({ type: String, nullable: true }) caption!: string | null;
  @ApiProperty({ example: 'image/jpeg' }) mime!: string;
  @ApiProperty() bytes!: number;
  @ApiProperty() sha256!: string;
  @ApiProperty({ type: String, nullable: true }) edge_agent_id!: string | null;
  @ApiProperty({ type: String, nullable: true }) attachment_guid!: string | null;
  @ApiProperty() created_at!: string;
  @ApiProperty({ type: String, nullable: true }) analyzed_at!: string | null;
}

export function toPhotoResponse(photo: PhotoEntity): PhotoResponseDto {
  return {
    photo_id: photo.id,
    status: photo.status,
    analysis: photo.analysis,
    error: photo.error,
    owner_user_id: photo.ownerUserId,
    room_id: photo.roomId,
    chat_guid: photo.chatGuid,
    is_group: photo.isGroup,
    caption: photo.caption,
    mime: photo.mime,
    bytes: photo.bytes,
    sha256: photo.sha256,
    edge_agent_id: photo.edgeAgentId,
    attachment_guid: photo.attachmentGuid,
    created_at: new Date(photo.createdAt).toISOString(),
    analyzed_at: photo.analyzedAt ? new Date(photo.analyzedAt).toISOString() : null,
  };
}
