import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { RoomType } from '../rooms/entities/room.entity';
import { peopleByHandleCtes, resolvingHandles } from '../users/people-by-handle';
import type { ImageMime } from './image-type';
import { PhotoAnalysis, PhotoEntity, PhotoMetadata, PhotoStatus } from './entities/photo.entity';

export interface NewPhotoRow {
  ownerUserId: string;
  roomId: string;
  chatGuid: string;
  edgeAgentId: string | null;
  attachmentGuid: string | null;
  storageKey: string;
  mime: ImageMime;
  bytes: number;
  sha256: string;
  caption: string | null;
  isGroup: boolean;
  status: PhotoStatus;
  metadata: PhotoMetadata;
}

/** What the conversation engine reads while it waits for analyses. */
export type PhotoProgress = Pick<
  PhotoEntity,
  'id' | 'chatGuid' | 'status' | 'analysis' | 'caption'
>;

const COLUMNS = `id, owner_user_id AS "ownerUserId", room_id AS "roomId", chat_guid AS "chatGuid",
  edge_agent_id AS "edgeAgentId", attachment_guid AS "attachmentGuid", storage_key AS "storageKey",
  mime, bytes, sha256, caption, is_group AS "isGroup", status, analysis, error, metadata,
  created_at AS "createdAt", analyzed_at AS "analyzedAt"`;

/**
 * The only place that queries photos (and the sender and room rows an upload needs). TypeORM
 * answers UPDATE and DELETE with `[rows, affected]`, SELECT and INSERT with the rows.
 */
@Injectable()
export class PhotosRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(run: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(run);
  }

  /** The sender (the person of the handle) and the room (by prefixed chat GUID), created on first sight. */
  async upsertOwnerAndRoom(
    handle: string,
    chatGuid: string,
    type: RoomType,
  ): Promise<{ userId: string; roomId: string }> {
    return resolvingHandles('a photo upload', async () => {
      const [row] = (await this.dataSource.query(
        `WITH ${peopleByHandleCtes('$1')}, r AS (
           INSERT INTO rooms (chat_guid, type) VALUES ($2, $3)
           ON CONFLICT (chat_guid) DO UPDATE SET chat_guid = EXCLUDED.chat_guid
           RETURNING id
         )
         SELECT people.id AS "userId", r.id AS "roomId" FROM people, r`,
        [[handle], chatGuid, type],
      )) as { userId: string; roomId: string }[];
      return row;
    });
  }

  /**
   * Serialises, across processes, everything that adds or removes a reference to one stored
   * file (uploads and deletes of the same bytes). Held until the transaction ends.
   */
  async lockContent(manager: EntityManager, sha256: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
      `photo:${sha256}`,
    ]);
  }

  /** Inserts the photo, or returns the one this sender already sent to this chat. */
  async insertOrFind(
    manager: EntityManager,
    row: NewPhotoRow,
  ): Promise<{ id: string; status: PhotoStatus; created: boolean }> {
    const inserted: { id: string; status: PhotoStatus }[] = await manager.query(
      `INSERT INTO photos (owner_user_id, room_id, chat_guid, edge_agent_id, attachment_guid,
                           storage_key, mime, bytes, sha256, caption, is_group, status, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (owner_user_id, chat_guid, sha256) DO NOTHING
       RETURNING id, status`,
      [
        row.ownerUserId,
        row.roomId,
        row.chatGuid,
        row.edgeAgentId,
        row.attachmentGuid,
        row.storageKey,
        row.mime,
        row.bytes,
        row.sha256,
        row.caption,
        row.isGroup,
        row.status,
        row.metadata,
      ],
    );
    if (inserted[0]) return { ...inserted[0], created: true };
    const [existing]: { id: string; status: PhotoStatus }[] = await manager.query(
      `SELECT id, status FROM photos WHERE owner_user_id = $1 AND chat_guid = $2 AND sha256 = $3`,
      [row.ownerUserId, row.chatGuid, row.sha256],
    );
    return { ...existing, created: false };
  }

  async findById(id: string): Promise<PhotoEntity | undefined> {
    const rows: PhotoEntity[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM photos WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async progress(ids: string[]): Promise<PhotoProgress[]> {
    return this.dataSource.query(
      `SELECT id, chat_guid AS "chatGuid", status, analysis, caption FROM photos
       WHERE id = ANY($1::uuid[])`,
      [ids],
    );
  }

  /** Moves photos from one status to another; returns the ids that moved. */
  async transition(
    ids: string[],
    from: PhotoStatus,
    to: PhotoStatus,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<string[]> {
    if (!ids.length) return [];
    const [rows]: [{ id: string }[], number] = await manager.query(
      `UPDATE photos SET status = $3 WHERE id = ANY($1::uuid[]) AND status = $2 RETURNING id`,
      [ids, from, to],
    );
    return rows.map((r) => r.id);
  }

  /** A chat's `stored` photos (newest first, at most `limit`) moved to `processing`. */
  async promoteStoredInChat(chatGuid: string, limit: number): Promise<string[]> {
    const [rows]: [{ id: string }[], number] = await this.dataSource.query(
      `UPDATE photos SET status = 'processing'
       WHERE id IN (SELECT id FROM photos WHERE chat_guid = $1 AND status = 'stored'
                    ORDER BY created_at DESC LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [chatGuid, limit],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Stores the analysis; false when the photo is gone or was already analysed (then nothing else
   * of this analysis may be written).
   */
  async completeAnalysis(
    manager: EntityManager,
    id: string,
    analysis: PhotoAnalysis,
  ): Promise<boolean> {
    const [, count]: [unknown[], number] = await manager.query(
      `UPDATE photos SET status = 'analyzed', analysis = $2, error = NULL, analyzed_at = now()
       WHERE id = $1 AND status <> 'analyzed'
       RETURNING id`,
      [id, analysis],
    );
    return count > 0;
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE photos SET status = 'failed', error = $2 WHERE id = $1 AND status <> 'analyzed'`,
      [id, error.slice(0, 1000)],
    );
  }

  async deleteById(
    manager: EntityManager,
    id: string,
  ): Promise<{ sha256: string; storageKey: string } | undefined> {
    const [rows]: [{ sha256: string; storageKey: string }[], number] = await manager.query(
      `DELETE FROM photos WHERE id = $1 RETURNING sha256, storage_key AS "storageKey"`,
      [id],
    );
    return rows[0];
  }

  async deleteByOwner(
    manager: EntityManager,
    userId: string,
  ): Promise<{ sha256: string; storageKey: string }[]> {
    const [rows]: [{ sha256: string; storageKey: string }[], number] = await manager.query(
      `DELETE FROM photos WHERE owner_user_id = $1 RETURNING sha256, storage_key AS "storageKey"`,
      [userId],
    );
    return rows;
  }

  /** Whether any photo still uses these bytes (call under `lockContent`). */
  async isReferenced(manager: EntityManager, sha256: string): Promise<boolean> {
    const rows = await manager.query(`SELECT 1 FROM photos WHERE sha256 = $1 LIMIT 1`, [sha256]);
    return rows.length > 0;
  }
}
