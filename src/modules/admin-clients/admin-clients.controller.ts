import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Auth, AuthScheme } from '../../common/auth/auth.decorators';
import { AdminClientsService } from './admin-clients.service';
import {
  ApiClientDto,
  ApiClientUsageDto,
  ApiClientWithKeyDto,
  CreateApiClientDto,
  toApiClientDto,
  toDailyUsageDto,
  UpdateApiClientDto,
  UsageQueryDto,
} from './dto/api-client.dto';

@ApiTags('admin')
@Auth(AuthScheme.Admin)
@Controller('admin/clients')
export class AdminClientsController {
  constructor(private readonly clients: AdminClientsService) {}

  @Get()
  @ApiOperation({ summary: 'Every API client (keys are never shown again)' })
  @ApiOkResponse({ type: [ApiClientDto] })
  async list(): Promise<ApiClientDto[]> {
    return (await this.clients.list()).map(toApiClientDto);
  }

  @Post()
  @ApiOperation({ summary: 'Creates an API client; the response carries its key, shown once' })
  @ApiCreatedResponse({ type: ApiClientWithKeyDto })
  async create(@Body() dto: CreateApiClientDto): Promise<ApiClientWithKeyDto> {
    const { client, apiKey } = await this.clients.create({
      name: dto.name,
      scopes: dto.scopes,
      rateLimitPerMin: dto.rate_limit_per_min,
      monthlyTokenBudget: dto.monthly_token_budget,
    });
    return { ...toApiClientDto(client), api_key: apiKey };
  }

  @Get(':id')
  @ApiOkResponse({ type: ApiClientDto })
  async get(@Param('id', ParseUUIDPipe) id: string): Promise<ApiClientDto> {
    return toApiClientDto(await this.clients.get(id));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Changes a client; deactivating revokes its tokens at once' })
  @ApiOkResponse({ type: ApiClientDto })
  async update(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateApiClientDto,
  ): Promise<ApiClientDto> {
    return toApiClientDto(
      await this.clients.update(id, {
        name: dto.name,
        scopes: dto.scopes,
        rateLimitPerMin: dto.rate_limit_per_min,
        monthlyTokenBudget: dto.monthly_token_budget,
        active: dto.active,
      }),
    );
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Deletes a client; its key and tokens stop working at once' })
  @ApiNoContentResponse()
  async delete(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.clients.delete(id);
  }

  @Post(':id/regenerate-key')
  @HttpCode(200)
  @ApiOperation({ summary: 'A new key (shown once); the old key and its tokens stop at once' })
  @ApiOkResponse({ type: ApiClientWithKeyDto })
  async regenerateKey(@Param('id', ParseUUIDPipe) id: string): Promise<ApiClientWithKeyDto> {
    const { client, apiKey } = await this.clients.regenerateKey(id);
    return { ...toApiClientDto(client), api_key: apiKey };
  }

  @Get(':id/usage')
  @ApiOperation({ summary: 'Tokens and requests per UTC day, from the usage ledger' })
  @ApiOkResponse({ type: ApiClientUsageDto })
  async usage(
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: UsageQueryDto,
  ): Promise<ApiClientUsageDto> {
    const days = await this.clients.usage(id, query.days ?? 30);
    return { client_id: id, days: days.map(toDailyUsageDto) };
  }
}
