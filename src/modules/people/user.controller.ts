import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadGatewayResponse,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { Auth, AuthScheme } from '../../common/auth/auth.decorators';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { RateLimit } from '../../core/rate-limit/rate-limit.decorator';
import { AuthRequest } from '../auth/scheme-verifier';
import {
  LinkHandleConfirmDto,
  LinkHandleResponseDto,
  LinkHandleStartDto,
  PersonExportDto,
  ProfileResponseDto,
  UpdateProfileDto,
  UserHandlesDto,
  UserMemoriesDto,
  VerifyStartResponseDto,
} from './dto/people.dto';
import { HandlesService } from './handles.service';
import { clearSessionCookies } from './people-cookies';
import { PersonDataService } from './person-data.service';
import { ProfileService } from './profile.service';
import { userOf } from './user-jwt.verifier';

const personOf = (req: FastifyRequest) => userOf(req as AuthRequest).userId;

/**
 * The signed-in person's own data. Every query is scoped to the token's person; every mutating
 * route authenticated by the cookie needs the CSRF header (the UserJwt verifier checks it).
 */
@ApiTags('people')
@Controller('user')
@Auth(AuthScheme.UserJwt)
export class UserController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly profiles: ProfileService,
    private readonly handles: HandlesService,
    private readonly personData: PersonDataService,
  ) {}

  @Get('profile')
  @ApiOperation({
    summary: 'The profile: handles, onboarding, trait profile, personas, relationship figures',
  })
  @ApiOkResponse({ type: ProfileResponseDto })
  profile(@Req() req: FastifyRequest): Promise<ProfileResponseDto> {
    return this.profiles.profile(personOf(req));
  }

  @Patch('profile')
  @ApiOperation({ summary: 'Change the name or the time zone (IANA, e.g. Europe/Paris)' })
  @ApiOkResponse({ type: ProfileResponseDto })
  update(@Req() req: FastifyRequest, @Body() dto: UpdateProfileDto): Promise<ProfileResponseDto> {
    return this.profiles.update(personOf(req), dto);
  }

  @Get('memories')
  @ApiOperation({ summary: 'What the assistant remembers about the person' })
  @ApiOkResponse({ type: UserMemoriesDto })
  memories(@Req() req: FastifyRequest): Promise<UserMemoriesDto> {
    return this.profiles.memories(personOf(req));
  }

  @Delete('memories/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Forget one memory (only the person’s own)' })
  @ApiNoContentResponse({ description: 'Forgotten' })
  @ApiNotFoundResponse({ description: 'No such memory of this person' })
  deleteMemory(
    @Req() req: FastifyRequest,
    @Param('id', new ParseUUIDPipe()) id: string,
  ): Promise<void> {
    return this.profiles.deleteMemory(personOf(req), id);
  }

  @Get('handles')
  @ApiOperation({ summary: 'The person’s handles (phones, Apple ID emails)' })
  @ApiOkResponse({ type: UserHandlesDto })
  async listHandles(@Req() req: FastifyRequest): Promise<UserHandlesDto> {
    return { handles: await this.handles.list(personOf(req)) };
  }

  @Post('handles/start')
  @HttpCode(202)
  @RateLimit({ name: 'handle-link-start', key: 'ip', limit: 30, ttlSeconds: 600 })
  @ApiOperation({
    summary: 'Send a code to a phone (text) or Apple ID email (email) to link it',
    description:
      'The same answer whether or not the handle is someone else’s; 409 only when it is already ' +
      'the caller’s. 3 codes per handle per 10 min, 10 per person per hour.',
  })
  @ApiAcceptedResponse({ type: VerifyStartResponseDto })
  @ApiConflictResponse({ description: 'Already one of the caller’s handles' })
  @ApiTooManyRequestsResponse({ description: 'Too many codes (Retry-After)' })
  @ApiBadGatewayResponse({ description: 'The SMS or email provider failed' })
  startLink(
    @Req() req: FastifyRequest,
    @Body() dto: LinkHandleStartDto,
  ): Promise<VerifyStartResponseDto> {
    return this.handles.start(personOf(req), dto.handle);
  }

  @Post('handles/confirm')
  @HttpCode(200)
  @RateLimit({ name: 'handle-link-confirm', key: 'ip', limit: 60, ttlSeconds: 600 })
  @ApiOperation({
    summary: 'Link the handle with its code; what iMessage knew through it becomes the person’s',
    description:
      'When the handle belonged to someone known only from iMessage (never signed in), that ' +
      'person’s messages, memories, traits and photos merge into the caller. When it belongs ' +
      'to someone who signed in: 409, nothing linked. A wrong code counts an attempt (5).',
  })
  @ApiOkResponse({ type: LinkHandleResponseDto })
  @ApiConflictResponse({ description: 'The handle is another signed-in person’s' })
  confirmLink(
    @Req() req: FastifyRequest,
    @Body() dto: LinkHandleConfirmDto,
  ): Promise<LinkHandleResponseDto> {
    return this.handles.confirm(personOf(req), dto.handle, dto.code);
  }

  @Get('export')
  @RateLimit({ name: 'user-export', key: 'ip', limit: 10, ttlSeconds: 600 })
  @ApiOperation({
    summary: 'Everything stored about the person, as JSON (messages, memories, traits, photos…)',
  })
  @ApiOkResponse({ type: PersonExportDto })
  async export(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PersonExportDto> {
    const exported = await this.personData.export(personOf(req));
    void reply.header('Cache-Control', 'no-store');
    void reply.header('Content-Disposition', 'attachment; filename="archety-export.json"');
    return exported;
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Erase the person: every row, photo file, cached reply and queued job; signs out',
  })
  @ApiNoContentResponse({ description: 'Erased' })
  async erase(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.personData.erase(personOf(req));
    clearSessionCookies(reply, this.config);
  }
}
