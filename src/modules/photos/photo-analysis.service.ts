import { Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { LlmClient } from '../../core/llm/llm.client';
import { LlmError } from '../../core/llm/llm.errors';
import type { ChatResult } from '../../core/llm/llm.types';
import { MemoryService } from '../memory/memory.service';
import { UsageService } from '../usage/usage.service';
import { PhotoAnalysis } from './entities/photo.entity';
import {
  parsePhotoAnalysis,
  photoAnalysisPrompt,
  VISUAL_MEMORY_TYPES,
} from './photo-analysis.prompt';
import { PhotoStorage } from './photo-storage';
import { PhotosRepository } from './photos.repository';

export type AnalysisOutcome =
  | { status: 'analyzed'; analysis: PhotoAnalysis; memories: number }
  | { status: 'skipped'; reason: string };

const VISUAL_CONFIDENCE = 0.7;
const VISUAL_LISTS = Object.keys(VISUAL_MEMORY_TYPES) as (keyof typeof VISUAL_MEMORY_TYPES)[];

/**
 * The `photo.analyze` job: load the photo, show it to the vision model, store the analysis and
 * one `visual_*` memory per item for the sender, with the usage record, in one transaction.
 * Running it again for the same photo adds nothing.
 */
@Injectable()
export class PhotoAnalysisService {
  private readonly logger = new Logger(PhotoAnalysisService.name);

  constructor(
    private readonly photos: PhotosRepository,
    private readonly storage: PhotoStorage,
    private readonly llm: LlmClient,
    private readonly memory: MemoryService,
    private readonly usage: UsageService,
  ) {}

  /**
   * Throws to have the job retried (the model failed or answered without a summary); throws an
   * `UnrecoverableError` when retrying cannot help (the file is gone, the model refused the
   * request as invalid).
   */
  async analyze(photoId: string): Promise<AnalysisOutcome> {
    const photo = await this.photos.findById(photoId);
    if (!photo) return { status: 'skipped', reason: 'photo deleted' };
    if (photo.status === 'analyzed') return { status: 'skipped', reason: 'already analysed' };

    let image: Buffer;
    try {
      image = await this.storage.read(photo.storageKey);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (!(await this.photos.findById(photoId))) return { status: 'skipped', reason: 'deleted' };
      throw new UnrecoverableError(`the photo's file is missing (${photo.storageKey})`);
    }

    let result: ChatResult;
    try {
      result = await this.llm.describeImage({
        image,
        mimeType: photo.mime,
        prompt: photoAnalysisPrompt(photo.caption),
        json: true,
      });
    } catch (err) {
      if (err instanceof LlmError && err.kind === 'rejected') {
        throw new UnrecoverableError(err.message);
      }
      throw err;
    }
    const analysis = parsePhotoAnalysis(result.content);
    if (!analysis) throw new Error('the vision model answered without a usable summary');

    let memories = 0;
    const stored = await this.photos.transaction(async (manager) => {
      if (!(await this.photos.completeAnalysis(manager, photo.id, analysis))) return false;
      for (const list of VISUAL_LISTS) {
        const type = VISUAL_MEMORY_TYPES[list];
        for (const content of analysis[list]) {
          const memory = await this.memory.remember(
            {
              userId: photo.ownerUserId,
              roomId: photo.roomId,
              type,
              content,
              confidence: VISUAL_CONFIDENCE,
              source: 'photo',
              sourceMessageId: null,
              sourcePhotoId: photo.id,
            },
            manager,
          );
          if (memory.created) memories++;
        }
      }
      await this.usage.record(
        manager,
        { userId: photo.ownerUserId, roomId: photo.roomId, purpose: 'photo-analysis' },
        [result],
      );
      return true;
    });
    if (!stored) return { status: 'skipped', reason: 'deleted or analysed meanwhile' };
    this.logger.log(`photo ${photo.id} analysed: ${memories} new memories`);
    return { status: 'analyzed', analysis, memories };
  }

  /** After the last attempt: the photo is `failed`, with the reason. */
  async markFailed(photoId: string, error: string): Promise<void> {
    await this.photos.markFailed(photoId, error);
  }
}
