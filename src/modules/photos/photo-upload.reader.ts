import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import {
  BadRequestException,
  HttpException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { inputShapeProblem } from '../../common/validation/input-shape';
import { detectImageType, ImageMime, SNIFF_BYTES } from './image-type';
import { PhotoStorage } from './photo-storage';

/** A received file, hashed and written to a temp file; `storage.commit` or `discard` it. */
export interface StagedPhoto {
  tempPath: string;
  sha256: string;
  bytes: number;
  /** Detected from the bytes. */
  mime: ImageMime;
  /** What the client said (kept for the record, never trusted). */
  filename: string | undefined;
  declaredMime: string | undefined;
}

export interface PhotoUploadForm {
  file: StagedPhoto;
  /** The text parts, each sent at most once. */
  fields: Record<string, string>;
}

/** The multipart shape of an upload: one file and a handful of short text fields. */
export const FIELD_MAX_BYTES = 64 * 1024;
const MAX_FIELDS = 16;
/** Room for the text fields and the multipart framing on top of the file itself. */
const FORM_OVERHEAD_BYTES = MAX_FIELDS * FIELD_MAX_BYTES + 64 * 1024;
export const FILE_FIELD = 'file';

/**
 * Reads a multipart photo upload without ever holding the file in memory: the `file` part
 * streams to a temp file while it is hashed and its first bytes are checked (415 as soon as they
 * are not an image), and the upload stops with 413 the moment it passes `maxBytes`. On any
 * failure the temp file is gone before this throws.
 */
export async function readPhotoUpload(
  request: FastifyRequest,
  storage: PhotoStorage,
  maxBytes: number,
): Promise<PhotoUploadForm> {
  if (!request.isMultipart()) {
    throw new UnsupportedMediaTypeException(
      `Expected multipart/form-data with a "${FILE_FIELD}" part`,
    );
  }
  // A declared length far past the limit is refused before a byte is read.
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + FORM_OVERHEAD_BYTES) {
    throw tooLarge(maxBytes);
  }

  let file: StagedPhoto | undefined;
  const fields: Record<string, string> = {};
  try {
    const parts = request.parts({
      limits: {
        fileSize: maxBytes,
        files: 1,
        fields: MAX_FIELDS,
        fieldSize: FIELD_MAX_BYTES,
        parts: MAX_FIELDS + 1,
        headerPairs: 100,
      },
    });
    for await (const part of parts) {
      if (part.type === 'file') {
        if (part.fieldname !== FILE_FIELD) {
          part.file.resume();
          throw new BadRequestException(
            `Unexpected file part "${part.fieldname.slice(0, 64)}": send the image as "${FILE_FIELD}"`,
          );
        }
        file = await stage(part, storage, maxBytes);
        continue;
      }
      const name = part.fieldname;
      if (part.valueTruncated) {
        throw new BadRequestException(
          `${name.slice(0, 64)} must be at most ${FIELD_MAX_BYTES} bytes`,
        );
      }
      if (Object.prototype.hasOwnProperty.call(fields, name)) {
        throw new BadRequestException(`${name.slice(0, 64)} must be sent once`);
      }
      const value = typeof part.value === 'string' ? part.value : String(part.value);
      // Postgres cannot store NUL: refused here, not by a failing write.
      const problem =
        inputShapeProblem(value, name.slice(0, 64)) ?? inputShapeProblem(name, 'a part name');
      if (problem) throw new BadRequestException(problem);
      fields[name] = value;
    }
    if (!file) throw new BadRequestException(`${FILE_FIELD} is required (a multipart file part)`);
    return { file, fields };
  } catch (err) {
    if (file) await storage.discard(file.tempPath);
    throw asHttpError(err, maxBytes);
  }
}

/** Streams one file part to a temp file: sha256, size, type by magic bytes, limit enforced. */
function stage(part: MultipartFile, storage: PhotoStorage, maxBytes: number): Promise<StagedPhoto> {
  const source: Readable & { truncated?: boolean } = part.file;
  const tempPath = storage.tempPath();
  const out = createWriteStream(tempPath, { flags: 'wx' });
  // The file exists once the (asynchronous) open is done: removing it must wait for the close.
  const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
  const hash = createHash('sha256');
  let bytes = 0;
  let head = Buffer.alloc(0);
  let mime: ImageMime | undefined;
  let settled = false;

  return new Promise<StagedPhoto>((resolve, reject) => {
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      // The rest of the part still has to pass through the parser: let it drain into nothing.
      source.off('data', onData);
      source.resume();
      out.destroy();
      void Promise.race([closed, sleep(2000)])
        .then(() => storage.discard(tempPath))
        .finally(() => reject(err));
    };
    const sniff = (): boolean => {
      mime = detectImageType(head);
      if (mime) return true;
      fail(
        new UnsupportedMediaTypeException(
          'The file is not a supported image (JPEG, PNG, WebP, GIF, HEIC/HEIF), judged by its content',
        ),
      );
      return false;
    };
    const onData = (chunk: Buffer) => {
      if (settled) return;
      bytes += chunk.length;
      if (bytes > maxBytes) return fail(tooLarge(maxBytes));
      hash.update(chunk);
      if (!mime && head.length < SNIFF_BYTES) {
        head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.length)]);
        if (head.length >= SNIFF_BYTES && !sniff()) return;
      }
      if (!out.write(chunk)) {
        source.pause();
        out.once('drain', () => {
          if (!settled) source.resume();
        });
      }
    };
    source.on('data', onData);
    source.once('limit', () => fail(tooLarge(maxBytes)));
    source.once('error', fail);
    out.once('error', fail);
    source.once('end', () => {
      if (settled) return;
      if (source.truncated) return fail(tooLarge(maxBytes));
      if (bytes === 0) return fail(new BadRequestException(`${FILE_FIELD} is empty`));
      if (!mime && !sniff()) return;
      out.end(() => {
        if (settled) return;
        settled = true;
        resolve({
          tempPath,
          sha256: hash.digest('hex'),
          bytes,
          mime: mime!,
          filename: part.filename || undefined,
          declaredMime: part.mimetype || undefined,
        });
      });
    });
  });
}

function tooLarge(maxBytes: number): PayloadTooLargeException {
  return new PayloadTooLargeException(`The file is larger than the ${maxBytes}-byte limit`);
}

/** Parser errors carry a status (413 for its limits); anything else is a malformed body. */
function asHttpError(err: unknown, maxBytes: number): unknown {
  if (err instanceof HttpException) return err;
  const code = (err as { code?: unknown })?.code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return tooLarge(maxBytes);
  if (code === 'FST_FILES_LIMIT') {
    return new BadRequestException(`Send exactly one file part ("${FILE_FIELD}")`);
  }
  const status = (err as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BadRequestException(`Malformed multipart body: ${message.slice(0, 200)}`);
}
