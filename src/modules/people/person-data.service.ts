import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { JobName } from '../../core/queue/queue.constants';
import { QueueService } from '../../core/queue/queue.service';
import { ResponseCacheService } from '../conversation/response-cache.service';
import { MemoryService } from '../memory/memory.service';
import { PhotosService } from '../photos/photos.service';
import { ErasureReportDto, PersonExportDto } from './dto/people.dto';
import { PersonDataRepository } from './person-data.repository';

/**
 * A person's privacy controls: everything stored about them as JSON, and erasure of all of it —
 * rows in every table, photo files, cached replies and the jobs queued for them. Used by the
 * person (`/user`) and by admins (`/admin/users`).
 */
@Injectable()
export class PersonDataService {
  private readonly logger = new Logger(PersonDataService.name);

  constructor(
    private readonly data: PersonDataRepository,
    private readonly photos: PhotosService,
    private readonly memory: MemoryService,
    private readonly cache: ResponseCacheService,
    private readonly queues: QueueService,
  ) {}

  async export(userId: string): Promise<PersonExportDto> {
    const exported = await this.data.exportOf(userId);
    if (!exported) throw new NotFoundException('No such person');
    return { exported_at: new Date().toISOString(), ...exported } as PersonExportDto;
  }

  /**
   * Erases the person. Postgres goes first (photos with their files through PhotosService, then
   * one transaction for the rest), so a job that starts meanwhile finds nothing to work on; then
   * the jobs still queued for their rows, then their cached replies. Running it again after a
   * failure half-way finishes the job.
   */
  async erase(userId: string): Promise<ErasureReportDto> {
    const targets = await this.data.erasureTargets(userId);
    if (!targets) throw new NotFoundException('No such person');
    const photos = await this.photos.deleteByUser(userId);
    const erased = await this.data.transaction(async (m) => {
      const memories = await this.memory.deleteByUser(userId, m);
      const rows = await this.data.eraseRows(m, userId);
      return rows && { ...rows, memories };
    });
    if (!erased) throw new NotFoundException('No such person');

    const jobs = await Promise.all([
      this.queues.removeJobs(JobName.MemoryExtract, targets.messageIds),
      this.queues.removeJobs(JobName.MemoryConsolidate, [userId]),
      this.queues.removeJobs(JobName.PhotoAnalyze, targets.photoIds),
      this.queues.removeJobs(JobName.ScheduledMessageSend, targets.scheduledMessageIds),
    ]);
    const cachedReplies = await this.cache.forgetPerson(userId);
    const report: ErasureReportDto = {
      user_id: userId,
      photos,
      memories: erased.memories,
      messages: erased.messages,
      rooms: erased.rooms,
      scheduled_messages: erased.scheduledMessages,
      edge_commands: erased.edgeCommands,
      jobs_removed: jobs.reduce((sum, j) => sum + j.removed, 0),
      jobs_running: jobs.reduce((sum, j) => sum + j.running, 0),
      cached_replies: cachedReplies,
    };
    // Counts only: nothing that identified the person is left to log.
    this.logger.log(`person ${userId} erased: ${JSON.stringify(report)}`);
    return report;
  }
}
