import { Module } from '@nestjs/common';
import { EdgeCommandsModule } from '../edge/edge-commands.module';
import { ScheduledMessageDeliveryService } from './scheduled-message-delivery.service';
import { ScheduledMessagesProcessor } from './scheduled-messages.processor';
import { ScheduledMessagesService } from './scheduled-messages.service';

/** The scheduled-messages queue's processor and its sweep; imported by worker roots only. */
@Module({
  imports: [EdgeCommandsModule],
  providers: [
    ScheduledMessagesService,
    ScheduledMessageDeliveryService,
    ScheduledMessagesProcessor,
  ],
})
export class ScheduledMessagesWorkerModule {}
