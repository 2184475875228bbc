import { randomBytes } from 'node:crypto';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Post,
  Req,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadGatewayResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { Auth, AuthScheme, Public } from '../../common/auth/auth.decorators';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { RateLimit } from '../../core/rate-limit/rate-limit.decorator';
import { AuthRequest } from '../auth/scheme-verifier';
import {
  CsrfTokenResponseDto,
  RefreshDto,
  SessionResponseDto,
  TokensResponseDto,
  VerifyConfirmDto,
  VerifyStartDto,
  VerifyStartResponseDto,
} from './dto/people.dto';
import { clearSessionCookies, setCsrfCookie, setSessionCookies } from './people-cookies';
import { PhoneSignInService } from './phone-sign-in.service';
import { ProfileService } from './profile.service';
import { SessionsService } from './sessions.service';
import { assertCsrf, userOf } from './user-jwt.verifier';
import { cookieNames, parseCookies } from './user-token';

@ApiTags('people')
@Controller('auth')
export class PeopleAuthController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly signIn: PhoneSignInService,
    private readonly sessions: SessionsService,
    private readonly profiles: ProfileService,
  ) {}

  @Post('verify/start')
  @HttpCode(202)
  @Public()
  @RateLimit({ name: 'otp-start', key: 'ip', limit: 30, ttlSeconds: 600 })
  @ApiOperation({
    summary: 'Text a 6-digit sign-in code to a phone (3 per phone per 10 min)',
    description: 'The answer is the same whether or not the phone belongs to someone already.',
  })
  @ApiAcceptedResponse({ type: VerifyStartResponseDto })
  @ApiBadGatewayResponse({ description: 'The SMS provider failed' })
  start(@Body() dto: VerifyStartDto): Promise<VerifyStartResponseDto> {
    return this.signIn.start(dto.phone);
  }

  @Post('verify/confirm')
  @HttpCode(200)
  @Public()
  @RateLimit({ name: 'otp-confirm', key: 'ip', limit: 60, ttlSeconds: 600 })
  @ApiOperation({
    summary: 'Exchange the code for a session (tokens in the body and HTTP-only cookies)',
    description:
      'Creates the person, or signs in the one iMessage already knows by this phone. ' +
      'A wrong code counts an attempt; after 5 the code stops working (429).',
  })
  @ApiOkResponse({ type: TokensResponseDto })
  async confirm(
    @Body() dto: VerifyConfirmDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokensResponseDto> {
    const tokens = await this.signIn.confirm(dto.phone, dto.code, dto.name?.trim());
    setSessionCookies(reply, this.config, tokens);
    return tokens;
  }

  @Post('refresh')
  @HttpCode(200)
  @Public()
  @RateLimit({ name: 'session-refresh', key: 'ip', limit: 60, ttlSeconds: 60 })
  @ApiOperation({
    summary: 'Rotate the refresh token (body or cookie) for a new pair',
    description:
      'Each refresh token works once. Presenting a spent one revokes the whole session. ' +
      'From the cookie, X-CSRF-Token is required.',
  })
  @ApiOkResponse({ type: TokensResponseDto })
  async refresh(
    @Body() dto: RefreshDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokensResponseDto> {
    let token = dto.refresh_token;
    if (!token) {
      token = parseCookies(req.headers.cookie)[cookieNames(this.config).refresh];
      if (token) assertCsrf(req as AuthRequest, this.config);
    }
    if (!token) throw new UnauthorizedException('No refresh token in the body or the cookie');
    const tokens = await this.sessions.refresh(token);
    setSessionCookies(reply, this.config, tokens);
    return tokens;
  }

  @Post('logout')
  @HttpCode(204)
  @Auth(AuthScheme.UserJwt)
  @ApiOperation({ summary: 'End the session: its access and refresh tokens stop working' })
  async logout(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.sessions.revoke(userOf(req as AuthRequest).sessionId);
    clearSessionCookies(reply, this.config);
  }

  @Get('session')
  @Auth(AuthScheme.UserJwt)
  @ApiOperation({ summary: 'Who is signed in (401 when nobody)' })
  @ApiOkResponse({ type: SessionResponseDto })
  async session(@Req() req: FastifyRequest): Promise<SessionResponseDto> {
    const principal = userOf(req as AuthRequest);
    const person = await this.profiles.person(principal.userId);
    return {
      authenticated: true,
      user_id: person.id,
      session_id: principal.sessionId,
      name: person.name,
      phone: person.handle,
    };
  }

  @Get('csrf-token')
  @Public()
  @ApiOperation({
    summary: 'A CSRF token (double-submit): set as a cookie and returned for X-CSRF-Token',
  })
  @ApiOkResponse({ type: CsrfTokenResponseDto })
  csrfToken(@Res({ passthrough: true }) reply: FastifyReply): CsrfTokenResponseDto {
    const token = randomBytes(32).toString('base64url');
    setCsrfCookie(reply, this.config, token);
    void reply.header('Cache-Control', 'no-store');
    return { csrf_token: token };
  }
}
