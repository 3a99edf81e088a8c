import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { newFileKey } from "../../src/domain/files";
import { ConfigError, loadConfig } from "../../src/env";
import { ErrorSchema } from "../../src/schemas/common";
import { createTestApp, type TestApp } from "../helpers/app";
import { expectSchema } from "../helpers/schemas";

/** GET /files/{key}: stored bytes, immutable caching, nosniff, SVG without script, 404 in the envelope. */

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe("GET /files/{key}", () => {
  test("serves the stored bytes with their type, cacheable for a year, never sniffed", async () => {
    const key = newFileKey("image/webp");
    const bytes = new Uint8Array([0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4]);
    await t.deps.storage.put(key, bytes, "image/webp");
    expect(t.deps.storage.publicUrl(key)).toBe(`http://localhost:3000/files/${key}`);
    const res = await t.fetch(`/files/${key}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/webp");
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  test("an SVG is served under a policy that runs no script", async () => {
    const key = newFileKey("image/svg+xml");
    const svg = `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`;
    await t.deps.storage.put(key, new TextEncoder().encode(svg), "image/svg+xml");
    const res = await t.fetch(`/files/${key}`);
    expect(res.headers.get("content-type")).toBe("image/svg+xml");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("sandbox");
    expect(csp).not.toContain("script-src");
    expect(await res.text()).toBe(svg);
  });

  test("downloads: a zip is an attachment; ?download=<name> names any file, with the key's extension only", async () => {
    const zip = newFileKey("application/zip");
    await t.deps.storage.put(zip, new Uint8Array([0x50, 0x4b, 3, 4]), "application/zip");
    const plain = await t.fetch(`/files/${zip}`);
    expect(plain.headers.get("content-type")).toBe("application/zip");
    expect(plain.headers.get("content-disposition")).toBe("attachment");
    const named = await t.fetch(`/files/${zip}?download=brand-kit.zip`, {
      headers: { origin: "http://localhost:5173" },
    });
    expect(named.status).toBe(200);
    expect(named.headers.get("content-disposition")).toBe('attachment; filename="brand-kit.zip"');
    // A page on another origin reads the name (fetch, then save as).
    expect(named.headers.get("access-control-expose-headers")?.split(",")).toContain("Content-Disposition");
    expect(new Uint8Array(await named.arrayBuffer())).toEqual(new Uint8Array([0x50, 0x4b, 3, 4]));

    const png = newFileKey("image/png");
    await t.deps.storage.put(png, new Uint8Array([0x89, 0x50, 0x4e, 0x47]), "image/png");
    expect((await t.fetch(`/files/${png}`)).headers.get("content-disposition")).toBeNull(); // an image shows inline
    expect((await t.fetch(`/files/${png}?download=logo-512.PNG`)).headers.get("content-disposition")).toBe(
      'attachment; filename="logo-512.PNG"',
    );
    for (const name of [
      "logo.html", // another type than the key's
      "logo", // no extension
      'a"b.png', // would break out of the quoted name
      "../logo.png",
      ".png",
      "lögo.png", // non-ASCII: no encoding games in a header
      `${"a".repeat(100)}.png`,
    ]) {
      const res = await t.fetch(`/files/${png}?download=${encodeURIComponent(name)}`);
      expect([name, res.status]).toEqual([name, 400]);
      expect(expectSchema(ErrorSchema, await res.json()).error.code).toBe("validation_error");
    }
  });

  test("unknown and malformed keys are 404 in the Error envelope, whatever their shape", async () => {
    for (const key of [
      newFileKey("image/png"), // well-formed, never stored
      "0123456789abcdef0123456789ABCDEF.png", // upper case
      "0123456789abcdef0123456789abcdef.html", // not an image extension
      "0123456789abcdef.png", // too short
      "..%2F..%2Fetc%2Fpasswd",
    ]) {
      const res = await t.fetch(`/files/${key}`);
      expect(res.status).toBe(404);
      expect(expectSchema(ErrorSchema, await res.json()).error.code).toBe("not_found");
    }
  });
});

describe("storage configuration", () => {
  test("defaults: a local directory, PUBLIC_URL from BETTER_AUTH_URL, 20 MiB per image", () => {
    const c = loadConfig({ BETTER_AUTH_URL: "https://api.example.com/" });
    expect(c.STORAGE_DRIVER).toBe("fs");
    expect(c.STORAGE_DIR).toBe(".data/files");
    expect(c.PUBLIC_URL).toBe("https://api.example.com");
    expect(c.OUTPUT_MAX_BYTES).toBe(20 * 1024 * 1024);
  });

  test("S3 without a bucket, half a key pair, or bad URLs: one line per variable", () => {
    let err: unknown;
    try {
      loadConfig({
        STORAGE_DRIVER: "s3",
        S3_ACCESS_KEY_ID: "AKIA",
        S3_ENDPOINT: "not a url",
        PUBLIC_URL: "nope",
        OUTPUT_MAX_BYTES: "0",
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join("\n");
    expect(problems).toContain("S3_BUCKET: is required when STORAGE_DRIVER=s3");
    expect(problems).toContain("S3_SECRET_ACCESS_KEY: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together");
    expect(problems).toContain("S3_ENDPOINT: must be an absolute URL");
    expect(problems).toContain("PUBLIC_URL: must be an absolute URL");
    expect(problems).toMatch(/OUTPUT_MAX_BYTES: /);
    expect(() => loadConfig({ STORAGE_DRIVER: "gcs" })).toThrow("STORAGE_DRIVER: must be fs or s3");
  });
});

describe("GET /files/{key} streams", () => {
  test("a large file is streamed from storage, not read whole first, and its bytes are identical", async () => {
    const MB = 1024 * 1024;
    const key = newFileKey("image/png");
    const bytes = new Uint8Array(8 * MB);
    crypto.getRandomValues(bytes.subarray(0, 65536));
    for (let i = 65536; i < bytes.length; i++) bytes[i] = (i * 31) & 255;
    await t.deps.storage.put(key, bytes, "image/png");

    // Unchanged file: every byte as stored, with its length.
    const whole = await t.fetch(`/files/${key}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-length")).toBe(String(bytes.length));
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(bytes);

    // The answer starts before the file has been read: once its first bytes are here, rewrite the file's second
    // half in place; a server that had read the whole file into memory would still send the old bytes.
    const res = await t.fetch(`/files/${key}`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    const { open } = await import("node:fs/promises");
    const file = await open(join(t.config.STORAGE_DIR, key), "r+");
    await file.write(new Uint8Array(4 * MB).fill(0xee), 0, 4 * MB, 4 * MB);
    await file.close();
    const chunks: Uint8Array[] = [first.value as Uint8Array];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    const served = Buffer.concat(chunks);
    expect(served.length).toBe(bytes.length);
    expect(served.subarray(0, 4096)).toEqual(Buffer.from(bytes.subarray(0, 4096)));
    expect(served.at(-1)).toBe(0xee);
  });
});
