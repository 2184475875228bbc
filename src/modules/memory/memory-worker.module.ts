import { Module } from '@nestjs/common';
import { UsageModule } from '../usage/usage.module';
import { UsersModule } from '../users/users.module';
import { MemoryConsolidationService } from './memory-consolidation.service';
import { MemoryExtractionProcessor } from './memory-extraction.processor';
import { MemoryExtractionService } from './memory-extraction.service';
import { MemoryModule } from './memory.module';

/** The memory-extraction queue's processor; imported by worker roots only. */
@Module({
  imports: [MemoryModule, UsageModule, UsersModule],
  providers: [MemoryExtractionService, MemoryConsolidationService, MemoryExtractionProcessor],
})
export class MemoryWorkerModule {}
