import { Module } from '@nestjs/common';
import { MemoryModule } from '../memory/memory.module';
import { UsageModule } from '../usage/usage.module';
import { PhotoAnalysisProcessor } from './photo-analysis.processor';
import { PhotoAnalysisService } from './photo-analysis.service';
import { PhotosModule } from './photos.module';

/** The photo-analysis queue's processor; imported by worker roots only (worker.module.ts). */
@Module({
  imports: [PhotosModule, MemoryModule, UsageModule],
  providers: [PhotoAnalysisService, PhotoAnalysisProcessor],
})
export class PhotosWorkerModule {}
