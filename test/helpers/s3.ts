import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

/**
 * A real S3-protocol server (s3rver) on 127.0.0.1, port 0, with one empty bucket; `env` configures the
 * app to store outputs there. close() stops it and removes its directory.
 *
 * s3rver runs in a Node child process: under Bun its logger (winston → logform) is handed the hoisted
 * safe-stable-stringify 1.x instead of its own nested 2.x and every request answers 500.
 */
const SERVER = `
const S3rver = require("s3rver");
const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: process.argv[1] });
server.run().then(({ port }) => process.stdout.write(JSON.stringify({ port }) + "\\n"));
process.on("SIGTERM", () => server.close().finally(() => process.exit(0)));
`;

export async function startS3(bucket = "logo-outputs") {
  const directory = await mkdtemp(join(tmpdir(), "logo-s3rver-"));
  const child = spawn("node", ["-e", SERVER, directory], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await portOf(child);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  return {
    endpoint,
    bucket,
    env: {
      STORAGE_DRIVER: "s3",
      S3_BUCKET: bucket,
      S3_REGION: "us-east-1",
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: "S3RVER",
      S3_SECRET_ACCESS_KEY: "S3RVER",
    } as Record<string, string>,
    async close() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function portOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const line = out.split("\n")[0];
      if (out.includes("\n") && line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once("exit", (code) => reject(new Error(`s3rver exited (${code}) before listening`)));
  });
}
