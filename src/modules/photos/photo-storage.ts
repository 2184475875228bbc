import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';

/** Temp files older than this are leftovers of a crashed process (uploads take seconds). */
const STALE_TEMP_MS = 60 * 60 * 1000;
const KEY = /^[0-9a-f]{2}\/[0-9a-f]{64}$/;
/** What the edge client sends at most (EDGE_PROTOCOL §5); the limit must sit above it. */
const EDGE_MAX_PHOTO_BYTES = 5 * 1024 * 1024;

/**
 * The photo files: content-addressed under PHOTO_STORAGE_DIR (`<sha[0..2]>/<sha>`), so the same
 * bytes are kept once however often they are uploaded. Uploads are written to `.tmp/` first
 * (same file system, so the final move is an atomic rename). The only place that touches them.
 */
@Injectable()
export class PhotoStorage implements OnModuleInit {
  private readonly logger = new Logger(PhotoStorage.name);
  private readonly root: string;
  private readonly tempDir: string;
  private readonly maxBytes: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.root = config.photos.storageDir;
    this.maxBytes = config.photos.maxBytes;
    this.tempDir = join(this.root, '.tmp');
  }

  async onModuleInit(): Promise<void> {
    if (this.maxBytes < EDGE_MAX_PHOTO_BYTES) {
      this.logger.warn(
        `PHOTO_MAX_BYTES=${this.maxBytes} is below the 5 MiB the edge client uploads: larger photos get 413`,
      );
    }
    await mkdir(this.tempDir, { recursive: true });
    // Other instances may share the directory: only files nobody can still be writing go.
    const now = Date.now();
    for (const name of await readdir(this.tempDir)) {
      const path = join(this.tempDir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && now - info.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => undefined);
    }
  }

  /** A fresh temp path for an upload in progress. */
  tempPath(): string {
    return join(this.tempDir, `${randomUUID()}.part`);
  }

  /**
   * Moves a fully written temp file to its content address, or drops it when those bytes are
   * already stored. Callers serialise commits and deletes of one hash (see PhotosRepository).
   */
  async commit(tempPath: string, sha256: string): Promise<{ key: string; reused: boolean }> {
    const key = keyFor(sha256);
    const target = this.pathOf(key);
    if (await exists(target)) {
      await this.discard(tempPath);
      return { key, reused: true };
    }
    await mkdir(join(this.root, key.slice(0, 2)), { recursive: true });
    await rename(tempPath, target);
    return { key, reused: false };
  }

  /** Removes a temp file; a missing one is fine. */
  async discard(tempPath: string): Promise<void> {
    await unlink(tempPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') this.logger.warn(`could not remove ${tempPath}: ${err.message}`);
    });
  }

  async read(key: string): Promise<Buffer> {
    return readFile(this.pathOf(key));
  }

  async exists(key: string): Promise<boolean> {
    return exists(this.pathOf(key));
  }

  /** Deletes a stored file; true when it existed. */
  async remove(key: string): Promise<boolean> {
    try {
      await unlink(this.pathOf(key));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  pathOf(key: string): string {
    if (!KEY.test(key)) throw new Error(`invalid photo storage key ${JSON.stringify(key)}`);
    return join(this.root, key);
  }
}

export function keyFor(sha256: string): string {
  return `${sha256.slice(0, 2)}/${sha256}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
