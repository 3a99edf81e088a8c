import { parentPort } from "node:worker_threads";

/** A worker that dies on its first job (tests the pool's crash path). */
parentPort?.on("message", () => {
  throw new Error("boom");
});
