import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { JobName } from '../../core/queue/queue.constants';
import { QueueService } from '../../core/queue/queue.service';
import { PersonasService } from '../personas/personas.service';
import { prefixedChatGuid } from '../rooms/chat-guid';
import { PhotoAnalysis, PhotoEntity, PhotoStatus } from './entities/photo.entity';
import { keyFor, PhotoStorage } from './photo-storage';
import type { StagedPhoto } from './photo-upload.reader';
import { PhotosRepository } from './photos.repository';

export interface PhotoUpload {
  /** The received file; the service commits or discards it, whatever happens. */
  file: StagedPhoto;
  /** The sender's handle (validated by the caller). */
  senderHandle: string;
  /** As the client sent it (`+1…`, `chat…`, `iMessage;-;…`); prefixed here. */
  chatGuid: string;
  /** Default: guessed from the chat GUID. */
  isGroup?: boolean;
  /** Raw text sent with the photo; U+FFFC is removed and the rest trimmed. */
  caption?: string | null;
  edgeAgentId?: string | null;
  attachmentGuid?: string | null;
  participants?: string[];
  context?: Record<string, unknown>;
}

export interface UploadResult {
  photoId: string;
  status: PhotoStatus;
  /** False when the same sender had already sent these bytes to this chat. */
  created: boolean;
}

/** How often `analysisNotes` looks again while it waits. */
const POLL_MS = 100;
/** At most this many photos are looked at (or analysed) for one message. */
const MAX_NOTE_PHOTOS = 10;
const NOTE_MAX_CHARS = 600;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The photo use cases: uploads (content-addressed, deduplicated, the group rule deciding whether
 * to analyse now), deletion, and what the conversation engine needs from analyses.
 */
@Injectable()
export class PhotosService {
  private readonly logger = new Logger(PhotosService.name);

  constructor(
    private readonly photos: PhotosRepository,
    private readonly storage: PhotoStorage,
    private readonly queue: QueueService,
    private readonly personas: PersonasService,
  ) {}

  /**
   * Stores an uploaded photo for its sender and chat. The same bytes are kept once on disk; the
   * same bytes from the same sender to the same chat are the same photo (its id is returned).
   * A direct-chat photo, or a group photo whose caption names a persona, is queued for analysis
   * (`processing`); any other group photo is kept as `stored` until the persona is addressed.
   */
  async upload(input: PhotoUpload): Promise<UploadResult> {
    const { file } = input;
    let committed = false;
    try {
      const chatGuid = prefixedChatGuid(input.chatGuid.trim());
      const isGroup = input.isGroup ?? looksLikeGroupChat(input.chatGuid);
      const caption = cleanCaption(input.caption);
      const analyse = !isGroup || (await this.namesPersona(caption));
      const { userId, roomId } = await this.photos.upsertOwnerAndRoom(
        input.senderHandle,
        chatGuid,
        isGroup ? 'group' : 'direct',
      );

      const result = await this.photos.transaction(async (manager) => {
        await this.photos.lockContent(manager, file.sha256);
        const row = await this.photos.insertOrFind(manager, {
          ownerUserId: userId,
          roomId,
          chatGuid,
          edgeAgentId: input.edgeAgentId ?? null,
          attachmentGuid: input.attachmentGuid ?? null,
          storageKey: keyFor(file.sha256),
          mime: file.mime,
          bytes: file.bytes,
          sha256: file.sha256,
          caption,
          isGroup,
          status: analyse ? 'processing' : 'stored',
          metadata: {
            ...(file.filename ? { filename: file.filename.slice(0, 256) } : {}),
            ...(file.declaredMime ? { declared_mime: file.declaredMime.slice(0, 128) } : {}),
            ...(input.participants ? { participants: input.participants } : {}),
            ...(input.context ? { context: input.context } : {}),
          },
        });
        let status = row.status;
        let enqueue = row.created && analyse;
        // The same photo sent again, now naming the persona: analyse the kept one.
        if (!row.created && status === 'stored' && analyse) {
          const moved = await this.photos.transition([row.id], 'stored', 'processing', manager);
          if (moved.length) {
            status = 'processing';
            enqueue = true;
          }
        }
        // Last, under the lock: the file lands (or the stored copy is reused) only for a row
        // that is about to be committed.
        await this.storage.commit(file.tempPath, file.sha256);
        committed = true;
        return { photoId: row.id, status, created: row.created, enqueue };
      });

      let status = result.status;
      if (result.enqueue && !(await this.enqueue(result.photoId))) status = 'stored';
      return { photoId: result.photoId, status, created: result.created };
    } finally {
      if (!committed) await this.storage.discard(file.tempPath);
    }
  }

  async get(id: string): Promise<PhotoEntity | undefined> {
    return this.photos.findById(id);
  }

  /**
   * Deletes a photo: the row, its memories (the foreign key cascades) and the file unless another
   * photo has the same bytes. False when there is no such photo.
   */
  async delete(id: string): Promise<boolean> {
    const photo = await this.photos.findById(id);
    if (!photo) return false;
    return this.photos.transaction(async (manager) => {
      await this.photos.lockContent(manager, photo.sha256);
      const deleted = await this.photos.deleteById(manager, id);
      if (!deleted) return false;
      if (!(await this.photos.isReferenced(manager, deleted.sha256))) {
        await this.storage.remove(deleted.storageKey);
      }
      return true;
    });
  }

  /** Every photo a person sent, with their memories and the files nobody else uses ("forget me"). */
  async deleteByUser(userId: string): Promise<number> {
    const deleted = await this.photos.transaction((manager) =>
      this.photos.deleteByOwner(manager, userId),
    );
    const files = new Map(deleted.map((d) => [d.sha256, d.storageKey]));
    for (const [sha256, key] of files) {
      await this.photos.transaction(async (manager) => {
        await this.photos.lockContent(manager, sha256);
        if (!(await this.photos.isReferenced(manager, sha256))) await this.storage.remove(key);
      });
    }
    return deleted.length;
  }

  /**
   * For the conversation engine, answering a message that carries photos: one short text per
   * analysed photo (its summary and key items), in the order asked. Photos still being analysed
   * are waited for, polling every ~100 ms, for at most `waitMs`; photos kept unanalysed (a group
   * photo) are queued for analysis now, since the assistant is about to talk about them. Unknown
   * ids, ids that are not UUIDs and (with `scope.chatGuid`) photos of other chats are ignored.
   */
  async analysisNotes(
    photoIds: string[],
    waitMs: number,
    scope: { chatGuid?: string } = {},
  ): Promise<string[]> {
    const ids = [...new Set(photoIds.filter((id) => UUID.test(id)))].slice(0, MAX_NOTE_PHOTOS);
    if (!ids.length) return [];
    const chatGuid = scope.chatGuid ? prefixedChatGuid(scope.chatGuid) : undefined;
    const inScope = async () =>
      (await this.photos.progress(ids)).filter((p) => !chatGuid || p.chatGuid === chatGuid);

    const initial = await inScope();
    const kept = initial.filter((p) => p.status === 'stored').map((p) => p.id);
    for (const id of await this.photos.transition(kept, 'stored', 'processing')) {
      await this.enqueue(id);
    }

    const deadline = Date.now() + Math.max(0, waitMs);
    for (;;) {
      const rows = await inScope();
      const waiting = rows.some((p) => p.status === 'processing' || p.status === 'stored');
      const left = deadline - Date.now();
      if (!waiting || left <= 0) {
        const byId = new Map(rows.map((p) => [p.id, p]));
        return ids.flatMap((id) => {
          const photo = byId.get(id);
          return photo?.status === 'analyzed' && photo.analysis
            ? [photoNote(photo.analysis, photo.caption)]
            : [];
        });
      }
      await sleep(Math.min(POLL_MS, left));
    }
  }

  /**
   * Queues analysis of a chat's `stored` photos (newest first, at most `limit`), e.g. when the
   * persona is addressed in a group. Returns how many were queued.
   */
  async analyzeStoredForRoom(chatGuid: string, limit = 20): Promise<number> {
    const ids = await this.photos.promoteStoredInChat(prefixedChatGuid(chatGuid), limit);
    let queued = 0;
    for (const id of ids) if (await this.enqueue(id)) queued++;
    return queued;
  }

  /** Whether the caption names a persona (by name or id, as a whole word, any case). */
  async namesPersona(caption: string | null): Promise<boolean> {
    if (!caption) return false;
    const names = (await this.personas.list()).flatMap((p) => [p.name, p.id]);
    return mentionsAny(caption, names);
  }

  /**
   * Queues the analysis job (idempotent by photo id). When the queue cannot be reached, the
   * photo goes back to `stored` so that a later mention or message analyses it; false then.
   */
  private async enqueue(photoId: string): Promise<boolean> {
    try {
      await this.queue.enqueue(JobName.PhotoAnalyze, { photoId }, { key: photoId });
      return true;
    } catch (err) {
      this.logger.warn(
        `photo ${photoId}: could not queue its analysis (${err instanceof Error ? err.message : String(err)}); kept as stored`,
      );
      await this.photos.transition([photoId], 'processing', 'stored').catch(() => undefined);
      return false;
    }
  }
}

/** The edge leaves U+FFFC (object replacement) where the attachment sat in the text. */
export function cleanCaption(caption: string | null | undefined): string | null {
  const cleaned = (caption ?? '').replace(/\uFFFC/g, '').trim();
  return cleaned ? cleaned : null;
}

/**
 * Group chat ids look like `chat<digits>` (also inside `iMessage;+;chat…`); direct ones are a
 * phone number or an email address.
 */
export function looksLikeGroupChat(chatGuid: string): boolean {
  return /(^|[;:])chat\d/i.test(chatGuid.trim()) || chatGuid.includes(';+;');
}

export function mentionsAny(text: string, names: string[]): boolean {
  return names.some((name) => {
    if (!name) return false;
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(^|[^\\p{L}\\p{N}_])${escaped}($|[^\\p{L}\\p{N}_])`, 'iu').test(text);
  });
}

/** One photo for the prompt: summary, then the items, bounded. */
export function photoNote(analysis: PhotoAnalysis, caption: string | null): string {
  const parts = [
    `Photo${caption ? ` (caption: "${caption.slice(0, 120)}")` : ''}: ${analysis.summary}`,
  ];
  const lists: [string, string[]][] = [
    ['activities', analysis.activities],
    ['people', analysis.people],
    ['places', analysis.places],
    ['preferences', analysis.preferences],
  ];
  for (const [label, items] of lists) {
    if (items?.length) parts.push(`${label}: ${items.slice(0, 5).join(', ')}`);
  }
  const note = parts.join(' | ');
  return note.length > NOTE_MAX_CHARS ? `${note.slice(0, NOTE_MAX_CHARS - 1)}…` : note;
}
