import { Readable } from "node:stream";
import { S3Client } from "@aws-sdk/client-s3";
import { Disk } from "flydrive";
import { FSDriver } from "flydrive/drivers/fs";
import { S3Driver } from "flydrive/drivers/s3";
import type { StoredType } from "../domain/files";
import type { Config } from "../env";

/**
 * Where output images live for good: a flydrive Disk over the local directory STORAGE_DIR (one
 * instance, or a shared volume) or an S3-compatible bucket (several instances). Files are immutable
 * and named by a random key that carries the file's extension, so the key alone says what the bytes
 * are, whichever driver stored them (the fs driver keeps no content type of its own).
 */

export interface Storage {
  readonly driver: "fs" | "s3";
  put(key: string, bytes: Uint8Array, contentType: StoredType): Promise<void>;
  /** The stored bytes, or null when there is no such file. */
  get(key: string): Promise<Uint8Array | null>;
  /**
   * The stored bytes as a stream read on demand (a large file never sits whole in memory), with their length;
   * null when there is no such file.
   */
  stream(key: string): Promise<{ body: ReadableStream<Uint8Array>; size: number } | null>;
  exists(key: string): Promise<boolean>;
  /** Removes a file; a file that is not there is no error. */
  delete(key: string): Promise<void>;
  /** Every stored file with its last modification, a page at a time (housekeeping looks for orphans). */
  list(): AsyncIterable<{ key: string; lastModified: Date }>;
  /** The URL clients get: `{S3_PUBLIC_URL}/{key}` when set, otherwise `{PUBLIC_URL}/files/{key}`. */
  publicUrl(key: string): string;
}

/** Builds the storage the configuration asks for. No I/O until the first call. */
export function createStorage(config: Config): Storage {
  const disk = config.STORAGE_DRIVER === "s3" ? new Disk(s3Driver(config)) : fsDisk(config.STORAGE_DIR);
  const publicBase = config.STORAGE_DRIVER === "s3" && config.S3_PUBLIC_URL ? config.S3_PUBLIC_URL : undefined;
  return {
    driver: config.STORAGE_DRIVER,
    async put(key, bytes, contentType) {
      await disk.put(key, bytes, { contentType, cacheControl: "public, max-age=31536000, immutable" });
    },
    async get(key) {
      try {
        return await disk.getBytes(key);
      } catch (err) {
        // flydrive wraps "no such file" (ENOENT, NoSuchKey) in the same error as any other failure.
        if (!(await disk.exists(key))) return null;
        throw err;
      }
    },
    async stream(key) {
      let size: number;
      try {
        size = (await disk.getMetaData(key)).contentLength;
      } catch (err) {
        if (!(await disk.exists(key))) return null;
        throw err;
      }
      const body = Readable.toWeb(await disk.getStream(key)) as unknown as ReadableStream<Uint8Array>;
      return { body, size };
    },
    exists: (key) => disk.exists(key),
    delete: (key) => disk.delete(key),
    async *list() {
      let paginationToken: string | undefined;
      do {
        const page = await disk.listAll("", { recursive: false, paginationToken });
        for (const object of page.objects) {
          if (object.isDirectory) continue;
          yield { key: object.key, lastModified: (await object.getMetaData()).lastModified };
        }
        paginationToken = page.paginationToken;
      } while (paginationToken);
    },
    publicUrl: (key) => (publicBase ? `${publicBase.replace(/\/+$/, "")}/${key}` : `${config.PUBLIC_URL}/files/${key}`),
  };
}

function fsDisk(dir: string) {
  return new Disk(new FSDriver({ location: dir, visibility: "public" }));
}

function s3Driver(config: Config) {
  const client = new S3Client({
    region: config.S3_REGION ?? "us-east-1",
    ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT, forcePathStyle: true } : {}),
    ...(config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY } }
      : {}),
  });
  // Objects are private to the bucket; reads go through GET /files/{key}, or through S3_PUBLIC_URL
  // (a bucket policy or CDN the operator sets up). No ACL calls: many S3-compatible stores lack them.
  return new S3Driver({ client, bucket: config.S3_BUCKET ?? "", visibility: "private", supportsACL: false });
}
