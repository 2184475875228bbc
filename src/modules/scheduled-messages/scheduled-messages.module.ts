import { Module } from '@nestjs/common';
import { ScheduledMessagesService } from './scheduled-messages.service';

@Module({ providers: [ScheduledMessagesService], exports: [ScheduledMessagesService] })
export class ScheduledMessagesModule {}
