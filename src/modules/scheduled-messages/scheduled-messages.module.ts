import { Module } from '@nestjs/common';
import { EdgeCommandsModule } from '../edge/edge-commands.module';
import { ScheduledMessagesAdminController } from './scheduled-messages-admin.controller';
import { ScheduledMessagesService } from './scheduled-messages.service';

@Module({
  imports: [EdgeCommandsModule],
  controllers: [ScheduledMessagesAdminController],
  providers: [ScheduledMessagesService],
  exports: [ScheduledMessagesService],
})
export class ScheduledMessagesModule {}
