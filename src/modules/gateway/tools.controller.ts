import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, AuthScheme } from '../../common/auth/auth.decorators';
import { RateLimit } from '../../core/rate-limit/rate-limit.decorator';
import { ASSISTANT_TOOLS } from '../conversation/assistant-tools';
import { RequiresScope } from './client-scope.guard';
import { ToolsDto } from './dto/gateway.dto';
import { CLIENT_BUCKET } from './gateway.limits';

@ApiTags('gateway')
@Controller('v1/tools')
@Auth(AuthScheme.ClientJwt)
@RateLimit(CLIENT_BUCKET)
@RequiresScope('tools')
export class ToolsController {
  @Get()
  @ApiOperation({ summary: 'The tools the assistant can call, with their JSON schemas' })
  @ApiOkResponse({ type: ToolsDto })
  list(): ToolsDto {
    return {
      tools: ASSISTANT_TOOLS.map((tool) => ({
        name: tool.name,
        description: tool.description ?? '',
        parameters: tool.parameters as Record<string, unknown>,
      })),
    };
  }
}
