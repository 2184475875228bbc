import { Module } from '@nestjs/common';
import { PersonasModule } from '../personas/personas.module';
import { PhotoStorage } from './photo-storage';
import { PhotosController } from './photos.controller';
import { PhotosRepository } from './photos.repository';
import { PhotosService } from './photos.service';

/**
 * Photos: uploads (relay and edge), reads, admin deletion. Exports PhotosService for the
 * conversation engine (`analysisNotes`, `analyzeStoredForRoom`) and the repository and storage
 * for the worker module.
 */
@Module({
  imports: [PersonasModule],
  controllers: [PhotosController],
  providers: [PhotosRepository, PhotoStorage, PhotosService],
  exports: [PhotosService, PhotosRepository, PhotoStorage],
})
export class PhotosModule {}
