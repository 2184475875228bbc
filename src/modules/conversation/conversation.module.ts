import { Module } from '@nestjs/common';
import { MemoryModule } from '../memory/memory.module';
import { PersonasModule } from '../personas/personas.module';
import { PhotosModule } from '../photos/photos.module';
import { RoomsModule } from '../rooms/rooms.module';
import { ScheduledMessagesModule } from '../scheduled-messages/scheduled-messages.module';
import { ConversationRepository } from './conversation.repository';
import { ConversationService } from './conversation.service';
import { ResponseCacheService } from './response-cache.service';

/**
 * The conversation engine, shared by every channel that talks to the assistant. The response
 * cache is exported for forgetting a person's cached replies (People: erasure and merges).
 */
@Module({
  imports: [PersonasModule, RoomsModule, MemoryModule, ScheduledMessagesModule, PhotosModule],
  providers: [ConversationService, ConversationRepository, ResponseCacheService],
  exports: [ConversationService, ResponseCacheService],
})
export class ConversationModule {}
