import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Request } from 'express';
import busboy from 'busboy';
import { ApiError, validationFailed } from '../errors.js';

/**
 * A `multipart/form-data` upload of one file, streamed to a temporary file as it arrives
 * (never held in memory), with its text fields. The byte limit is enforced while reading:
 * at the limit the part is abandoned, the answer is 413 and the connection is closed
 * instead of reading the rest.
 */
export type Upload = {
  /** The temporary file; removed by `discard`. */
  file: string;
  bytes: number;
  fields: Record<string, string>;
  discard: () => Promise<void>;
};

/** Room for the multipart framing and the text fields around the file. */
const ENVELOPE_BYTES = 64 * 1024;
const MAX_FIELD_BYTES = 4096;

export const photoTooLarge = (maxBytes: number) =>
  new ApiError(413, 'photo_too_large', `The photo is larger than ${maxBytes} bytes`, { headers: { Connection: 'close' } });

/** After an early answer, the rest of the request is not read: the connection ends once the answer is out. */
function stopReading(req: Request): void {
  req.unpipe();
  const res = req.res;
  const cut = () => req.socket.destroy();
  if (res && !res.writableFinished) res.once('finish', () => setTimeout(cut, 50).unref());
  else setTimeout(cut, 50).unref();
}

export async function readUpload(req: Request, options: { field: string; maxBytes: number }): Promise<Upload> {
  if (!req.is('multipart/form-data')) {
    throw new ApiError(415, 'unsupported_media_type', 'This upload must be multipart/form-data');
  }
  const declared = Number(req.get('content-length') ?? 0);
  if (declared > options.maxBytes + ENVELOPE_BYTES) {
    stopReading(req);
    throw photoTooLarge(options.maxBytes);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'kaggi-upload-'));
  const file = path.join(dir, 'upload');
  const discard = () => rm(dir, { recursive: true, force: true });

  try {
    return await new Promise<Upload>((resolve, reject) => {
      let parser: busboy.Busboy;
      try {
        parser = busboy({
          headers: req.headers,
          limits: { files: 1, fileSize: options.maxBytes, fields: 10, fieldSize: MAX_FIELD_BYTES, parts: 12, headerPairs: 50 },
        });
      } catch {
        reject(new ApiError(400, 'malformed_multipart', 'The multipart body could not be read (boundary missing?)'));
        return;
      }
      const fields: Record<string, string> = {};
      let bytes = 0;
      let written: Promise<void> | undefined;
      let failed = false;
      const fail = (error: ApiError) => {
        if (failed) return;
        failed = true;
        stopReading(req);
        reject(error);
      };
      parser.on('field', (name, value, info) => {
        if (info.valueTruncated) fail(validationFailed([{ path: `body.${name}`, message: `body.${name} is too long` }]));
        else fields[name] = value;
      });
      parser.on('file', (name, stream) => {
        if (name !== options.field || written) {
          stream.resume();
          return;
        }
        const out = createWriteStream(file, { flags: 'wx' });
        stream.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        stream.on('limit', () => {
          stream.unpipe(out);
          stream.resume();
          out.destroy();
          fail(photoTooLarge(options.maxBytes));
        });
        written = new Promise<void>((done, broken) => {
          out.on('finish', done);
          out.on('error', broken);
          stream.on('error', broken);
        });
        // A failure is answered through `fail`; the promise must not be left rejected unheard.
        written.catch(() => undefined);
        stream.pipe(out);
      });
      parser.on('error', () => fail(new ApiError(400, 'malformed_multipart', 'The multipart body could not be read')));
      parser.on('close', () => {
        if (failed) return;
        if (!written) {
          fail(validationFailed([{ path: `body.${options.field}`, message: `body.${options.field} (a file) is required` }]));
          return;
        }
        written.then(
          () => resolve({ file, bytes, fields, discard }),
          () => fail(new ApiError(400, 'request_aborted', 'The upload did not arrive whole')),
        );
      });
      req.on('aborted', () => fail(new ApiError(400, 'request_aborted', 'The request was aborted by the client')));
      req.on('error', () => fail(new ApiError(400, 'request_aborted', 'The request was aborted by the client')));
      req.pipe(parser);
    });
  } catch (error) {
    await discard();
    throw error;
  }
}
