import { Module } from '@nestjs/common';
import { UsageModule } from '../usage/usage.module';
import { MemoryConsolidationService } from './memory-consolidation.service';
import { MemoryExtractionProcessor } from './memory-extraction.processor';
import { MemoryExtractionRepository } from './memory-extraction.repository';
import { MemoryExtractionService } from './memory-extraction.service';
import { MemoryModule } from './memory.module';

/** The memory-extraction queue's processor; imported by worker roots only. */
@Module({
  imports: [MemoryModule, UsageModule],
  providers: [
    MemoryExtractionRepository,
    MemoryExtractionService,
    MemoryConsolidationService,
    MemoryExtractionProcessor,
  ],
})
export class MemoryWorkerModule {}
