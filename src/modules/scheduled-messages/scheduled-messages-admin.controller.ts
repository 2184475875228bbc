import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Patch, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, AuthScheme } from '../../common/auth/auth.decorators';
import {
  ListScheduledMessagesQuery,
  RescheduleDto,
  ScheduledMessageDto,
} from './dto/scheduled-message.dto';
import { ScheduledMessagesService } from './scheduled-messages.service';

@ApiTags('admin')
@Auth(AuthScheme.Admin)
@Controller('admin/scheduled-messages')
export class ScheduledMessagesAdminController {
  constructor(private readonly scheduled: ScheduledMessagesService) {}

  @Get()
  @ApiOperation({ summary: 'Scheduled messages, by room and status' })
  @ApiOkResponse({ type: [ScheduledMessageDto] })
  async list(@Query() query: ListScheduledMessagesQuery): Promise<ScheduledMessageDto[]> {
    const rows = await this.scheduled.list({ roomId: query.room_id, status: query.status });
    return rows.map(ScheduledMessageDto.from);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Move a pending message to another time (409 once it went out)' })
  @ApiOkResponse({ type: ScheduledMessageDto })
  async reschedule(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: RescheduleDto,
  ): Promise<ScheduledMessageDto> {
    return ScheduledMessageDto.from(await this.scheduled.reschedule(id, new Date(body.send_at)));
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Cancel a pending message (409 once it went out)' })
  @ApiOkResponse({ type: ScheduledMessageDto })
  async cancel(@Param('id', ParseUUIDPipe) id: string): Promise<ScheduledMessageDto> {
    return ScheduledMessageDto.from(await this.scheduled.cancel(id));
  }
}
