import {
  BadRequestException,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  ValidationPipe,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Auth, AuthScheme } from '../../common/auth/auth.decorators';
import { validationMessages } from '../../common/pipes/validation.pipe';
import { inputShapeProblem } from '../../common/validation/input-shape';
import type { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import type { EdgePrincipal } from '../auth/edge-token.verifier';
import type { AuthRequest } from '../auth/scheme-verifier';
import { PhotoResponseDto, toPhotoResponse } from './dto/photo.response.dto';
import {
  EDGE_UPLOAD_BODY_SCHEMA,
  EdgePhotoFieldsDto,
  FILE_ONLY_BODY_SCHEMA,
  UploadPhotoQueryDto,
  UploadPhotoResponseDto,
} from './dto/upload-photo.dto';
import { PhotoStorage } from './photo-storage';
import { readPhotoUpload } from './photo-upload.reader';
import { PhotosService } from './photos.service';

/**
 * The text parts of an edge upload, validated like a JSON body; parts this version does not know
 * are ignored (the deployed client may add some), unlike JSON bodies.
 */
const EDGE_FIELDS = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: false,
  transform: true,
  validationError: { target: false, value: false },
  exceptionFactory: (errors) => new BadRequestException(validationMessages(errors)),
});

const PHOTO_ID = new ParseUUIDPipe({
  exceptionFactory: () => new BadRequestException('id must be a UUID'),
});

@Controller()
export class PhotosController {
  constructor(
    private readonly photos: PhotosService,
    private readonly storage: PhotoStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('photos/upload')
  @HttpCode(200)
  @Auth(AuthScheme.RelayBearer)
  @ApiTags('relay')
  @ApiOperation({
    summary: 'Upload a photo (relay): multipart `file`, the sender and chat in the query',
    description:
      'JPEG, PNG, WebP, GIF, HEIC/HEIF, judged by content (415 otherwise); 413 past PHOTO_MAX_BYTES.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: FILE_ONLY_BODY_SCHEMA })
  @ApiOkResponse({ type: UploadPhotoResponseDto })
  async uploadFromRelay(
    @Query() query: UploadPhotoQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<UploadPhotoResponseDto> {
    const { file } = await readPhotoUpload(request, this.storage, this.config.photos.maxBytes);
    const result = await this.photos.upload({
      file,
      senderHandle: query.user_phone,
      chatGuid: query.chat_guid,
      isGroup: query.is_group === undefined ? undefined : query.is_group === 'true',
      caption: query.caption,
    });
    return { photo_id: result.photoId, status: result.status };
  }

  @Post('photo/upload')
  @HttpCode(200)
  @Auth(AuthScheme.EdgeToken)
  @ApiTags('edge')
  @ApiHeader({ name: 'X-Edge-Agent-Id', required: false })
  @ApiOperation({
    summary: 'Upload a photo (edge client): multipart `file` plus text parts (EDGE_PROTOCOL §5)',
    description:
      '`status` is `processing` (analysis queued) or `stored` (a group photo whose caption names ' +
      'no persona, analysed once the persona is addressed).',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: EDGE_UPLOAD_BODY_SCHEMA })
  @ApiOkResponse({ type: UploadPhotoResponseDto })
  async uploadFromEdge(
    @Req() request: FastifyRequest & AuthRequest,
  ): Promise<UploadPhotoResponseDto> {
    const { file, fields } = await readPhotoUpload(
      request,
      this.storage,
      this.config.photos.maxBytes,
    );
    let handedOver = false;
    try {
      const dto = (await EDGE_FIELDS.transform(fields, {
        type: 'body',
        metatype: EdgePhotoFieldsDto,
      })) as EdgePhotoFieldsDto;
      const principal = request.auth?.[AuthScheme.EdgeToken] as EdgePrincipal | undefined;
      if (principal?.agentId !== undefined && principal.agentId !== dto.edge_agent_id) {
        throw new ForbiddenException('edge_agent_id does not match the authenticated edge agent');
      }
      const participants = parseParticipants(dto.participants);
      const context = parseContext(dto.context);
      handedOver = true;
      const result = await this.photos.upload({
        file,
        senderHandle: dto.user_phone,
        chatGuid: dto.chat_guid,
        isGroup: dto.is_group === undefined ? undefined : dto.is_group === 'true',
        caption: dto.caption,
        edgeAgentId: dto.edge_agent_id,
        attachmentGuid: dto.attachment_guid ?? null,
        participants,
        context,
      });
      return { photo_id: result.photoId, status: result.status };
    } finally {
      if (!handedOver) await this.storage.discard(file.tempPath);
    }
  }

  @Get('photos/:id')
  @Auth(AuthScheme.RelayBearer)
  @ApiTags('relay')
  @ApiOperation({ summary: 'A photo: its status and, once analysed, the analysis' })
  @ApiOkResponse({ type: PhotoResponseDto })
  async get(@Param('id', PHOTO_ID) id: string): Promise<PhotoResponseDto> {
    const photo = await this.photos.get(id);
    if (!photo) throw new NotFoundException(`No photo ${id}`);
    return toPhotoResponse(photo);
  }

  @Delete('admin/photos/:id')
  @HttpCode(204)
  @Auth(AuthScheme.Admin)
  @ApiTags('admin')
  @ApiOperation({
    summary: 'Delete a photo: the row, its memories, and the file unless other photos share it',
  })
  @ApiNoContentResponse()
  async delete(@Param('id', PHOTO_ID) id: string): Promise<void> {
    if (!(await this.photos.delete(id))) throw new NotFoundException(`No photo ${id}`);
  }
}

function parseParticipants(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new BadRequestException('participants must be a JSON array of handles');
  }
  if (
    !Array.isArray(value) ||
    value.length > 100 ||
    !value.every((p) => typeof p === 'string' && p.length > 0 && p.length <= 320)
  ) {
    throw new BadRequestException('participants must be a JSON array of at most 100 handles');
  }
  const problem = inputShapeProblem(value, 'participants');
  if (problem) throw new BadRequestException(problem);
  return value as string[];
}

function parseContext(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new BadRequestException('context must be a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestException('context must be a JSON object');
  }
  // It is stored as jsonb: the same limits as a JSON body.
  const problem = inputShapeProblem(value, 'context');
  if (problem) throw new BadRequestException(problem);
  return value as Record<string, unknown>;
}
