import {
  Controller,
  Delete,
  Get,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Query,
} from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, AuthScheme } from '../../common/auth/auth.decorators';
import { AdminUserDto, AdminUserQueryDto, ErasureReportDto } from './dto/people.dto';
import { toHandleDto } from './handles.service';
import { PeopleRepository } from './people.repository';
import { PersonDataRepository } from './person-data.repository';
import { PersonDataService } from './person-data.service';

/** Admins acting on a person's request (a "forget me" that arrived by text, say). */
@ApiTags('admin')
@Auth(AuthScheme.Admin)
@Controller('admin/users')
export class AdminUsersController {
  constructor(
    private readonly people: PeopleRepository,
    private readonly data: PersonDataRepository,
    private readonly personData: PersonDataService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The person a handle (phone or Apple ID email) belongs to' })
  @ApiOkResponse({ type: AdminUserDto })
  @ApiNotFoundResponse({ description: 'Nobody has this handle' })
  async find(@Query() query: AdminUserQueryDto): Promise<AdminUserDto> {
    const userId = await this.data.ownerOf(query.handle);
    const person = userId ? await this.people.person(userId) : undefined;
    if (!person) throw new NotFoundException('Nobody has this handle');
    return {
      user_id: person.id,
      name: person.name,
      handles: (await this.data.handles(person.id)).map(toHandleDto),
      created_at: person.createdAt.toISOString(),
    };
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Erase a person: every row, photo file, cached reply and queued job',
  })
  @ApiOkResponse({ type: ErasureReportDto })
  @ApiNotFoundResponse({ description: 'No such person' })
  erase(@Param('id', new ParseUUIDPipe()) id: string): Promise<ErasureReportDto> {
    return this.personData.erase(id);
  }
}
