import { parentPort } from "node:worker_threads";

/** A worker that never answers (tests the pool's job timeout). */
parentPort?.on("message", () => {});
