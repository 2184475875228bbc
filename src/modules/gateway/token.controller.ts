import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { Public } from '../../common/auth/auth.decorators';
import { RateLimit } from '../../core/rate-limit/rate-limit.decorator';
import { TokenRequestDto, TokenResponseDto } from './dto/gateway.dto';
import { CLIENT_BUCKET } from './gateway.limits';
import { TokenService } from './token.service';

@ApiTags('gateway')
@Controller('auth')
export class TokenController {
  constructor(private readonly tokens: TokenService) {}

  /**
   * Counted in the `client` bucket (before authentication there is no client: per IP), and
   * failed exchanges separately per IP in the service (20 per 10 min).
   */
  @Post('token')
  @HttpCode(200)
  @Public()
  @RateLimit(CLIENT_BUCKET)
  @ApiOperation({ summary: 'An API key for a client access token (HS256 JWT)' })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiUnauthorizedResponse({ description: 'Unknown, revoked or deactivated key' })
  token(@Body() dto: TokenRequestDto, @Req() req: FastifyRequest): Promise<TokenResponseDto> {
    return this.tokens.exchange(dto.api_key, req.ip ?? 'unknown');
  }
}
