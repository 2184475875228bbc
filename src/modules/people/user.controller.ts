import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Req,
} from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { Auth, AuthScheme } from '../../common/auth/auth.decorators';
import { AuthRequest } from '../auth/scheme-verifier';
import { ProfileResponseDto, UpdateProfileDto, UserMemoriesDto } from './dto/people.dto';
import { ProfileService } from './profile.service';
import { userOf } from './user-jwt.verifier';

/** The signed-in person's own data. Every query is scoped to the token's person. */
@ApiTags('people')
@Controller('user')
@Auth(AuthScheme.UserJwt)
export class UserController {
  constructor(private readonly profiles: ProfileService) {}

  @Get('profile')
  @ApiOperation({ summary: 'The profile, personas talked to and relationship figures' })
  @ApiOkResponse({ type: ProfileResponseDto })
  profile(@Req() req: FastifyRequest): Promise<ProfileResponseDto> {
    return this.profiles.profile(userOf(req as AuthRequest).userId);
  }

  @Patch('profile')
  @ApiOperation({ summary: 'Change the name or the time zone (IANA, e.g. Europe/Paris)' })
  @ApiOkResponse({ type: ProfileResponseDto })
  update(@Req() req: FastifyRequest, @Body() dto: UpdateProfileDto): Promise<ProfileResponseDto> {
    return this.profiles.update(userOf(req as AuthRequest).userId, dto);
  }

  @Get('memories')
  @ApiOperation({ summary: 'What the assistant remembers about the person' })
  @ApiOkResponse({ type: UserMemoriesDto })
  memories(@Req() req: FastifyRequest): Promise<UserMemoriesDto> {
    return this.profiles.memories(userOf(req as AuthRequest).userId);
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
    return this.profiles.deleteMemory(userOf(req as AuthRequest).userId, id);
  }
}
