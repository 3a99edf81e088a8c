import { Worker } from "node:worker_threads";
import type { AssetFile, ImagingLimits } from "../imaging/types";
import { ImagingError } from "../imaging/types";
import type { MakeContext } from "./define";

/**
 * A bounded pool of worker threads for the image layer, so CPU work never runs on the event loop.
 * Workers start lazily, take one job at a time from a FIFO queue, and receive/return buffers by
 * transfer. A worker that crashes (or a job that throws) rejects only that job; a crashed worker is
 * replaced by the next job that needs one. ImagingError codes survive the thread boundary.
 *
 * Native image calls (sharp's pipelines) run on the process's one libuv thread pool, which the main thread
 * needs too (WebCrypto for session checks, file reads, DNS). A brand kit starts several at once, so a few
 * workers could hold every thread of that pool for seconds and stall every request. So the workers ask this
 * pool for a permit around each native call (worker.ts), and at most `nativeSlots` are held at once across
 * all workers: the rest of the thread pool stays free for the main thread. A worker's permits are returned
 * when it finishes, crashes or is killed.
 */

/** The threads of the process's pool (UV_THREADPOOL_SIZE, libuv's default 4) kept for the main thread. */
export const MAIN_THREAD_RESERVE = 2;

/** Permits for native image calls given a libuv thread pool of `threadPoolSize` threads. */
export const nativeSlotsFor = (threadPoolSize: number): number =>
  Math.max(1, Math.trunc(threadPoolSize) - MAIN_THREAD_RESERVE);

export interface ImagingPool {
  run(
    kind: string,
    source: Uint8Array,
    options: Record<string, unknown>,
    limits: ImagingLimits,
    context?: MakeContext,
  ): Promise<AssetFile[]>;
  readonly size: number;
  close(): Promise<void>;
}

/** A job its worker did not finish within the pool's job timeout: the worker was terminated. */
export class ImagingJobTimeout extends Error {
  override readonly name = "ImagingJobTimeout";
}

/** The pool was closed before the job ran or finished: nothing about the job itself. */
export class ImagingPoolClosed extends Error {
  override readonly name = "ImagingPoolClosed";
}

interface Job {
  id: number;
  kind: string;
  source: Uint8Array;
  options: Record<string, unknown>;
  limits: ImagingLimits;
  context: MakeContext;
  resolve: (files: AssetFile[]) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  dead: boolean;
  timer: ReturnType<typeof setTimeout> | null;
  /** Native-call permits this worker holds. */
  held: number;
}

type Reply =
  | { id: number; ok: true; files: AssetFile[] }
  | { id: number; ok: false; error: { code: ImagingError["code"] | null; message: string } };

/** From a worker: it wants a permit for one native call, or gives one back. The answer to `acquire` is PERMIT_GRANTED. */
export type PermitMessage = { permit: "acquire" | "release" };
export const PERMIT_GRANTED = { permitGranted: true } as const;

/** The worker entry next to this module: worker.ts when running the sources (Bun, tsx), worker.js once compiled. */
function workerUrl(): URL {
  const ext = /\.([cm]?ts)$/.exec(new URL(import.meta.url).pathname)?.[1];
  return new URL(ext ? `./worker.${ext}` : "./worker.js", import.meta.url);
}

/**
 * Bun runs worker.ts directly, and Node runs a compiled worker.js. Node running the TypeScript sources
 * through `--import tsx` passes that flag on to workers, but tsx does not hook module loading inside a
 * worker thread; so there the worker first registers tsx's loader, then imports worker.ts.
 */
function startWorker(url: URL): Worker {
  const typescript = /\.[cm]?ts$/.test(url.pathname);
  if (typescript && typeof process.versions.bun !== "string") {
    const tsx = import.meta.resolve("tsx/esm/api");
    const code = `import(${JSON.stringify(tsx)}).then((m) => m.register()).then(() => import(${JSON.stringify(url.href)}))`;
    return new Worker(code, { eval: true });
  }
  return new Worker(url);
}

export interface ImagingPoolOptions {
  size: number;
  /**
   * A job still running after this long has its worker terminated and is rejected (a trace cannot be
   * aborted from inside, and a stuck native call must not hold a slot forever). Default 120 s.
   */
  jobTimeoutMs?: number;
  /** Native image calls (sharp) running at once across all workers; default nativeSlotsFor(4). */
  nativeSlots?: number;
  /** Tests only: another worker entry. */
  workerUrl?: URL;
}

export function createImagingPool(opts: ImagingPoolOptions): ImagingPool {
  const size = Math.max(1, Math.trunc(opts.size));
  const jobTimeoutMs = opts.jobTimeoutMs ?? 120_000;
  const url = opts.workerUrl ?? workerUrl();
  const nativeSlots = Math.max(1, Math.trunc(opts.nativeSlots ?? nativeSlotsFor(4)));
  const slots: Slot[] = [];
  const queue: Job[] = [];
  /** Workers waiting for a native permit, one entry per request, first come first served. */
  const waiting: Slot[] = [];
  let permitsInUse = 0;

  const grantPermits = () => {
    while (permitsInUse < nativeSlots && waiting.length > 0) {
      const slot = waiting.shift() as Slot;
      if (slot.dead) continue;
      permitsInUse++;
      slot.held++;
      slot.worker.postMessage(PERMIT_GRANTED);
    }
  };

  const returnPermits = (slot: Slot) => {
    permitsInUse -= slot.held;
    slot.held = 0;
    for (let i = waiting.length - 1; i >= 0; i--) if (waiting[i] === slot) waiting.splice(i, 1);
    grantPermits();
  };
  let nextId = 1;
  let closed = false;

  const clearTimer = (slot: Slot) => {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
  };

  const finish = (slot: Slot, settle: (job: Job) => void) => {
    clearTimer(slot);
    const job = slot.job;
    slot.job = null;
    if (job) settle(job);
    if (!slot.dead) slot.worker.unref();
    pump();
  };

  const kill = (slot: Slot, error: Error) => {
    if (slot.dead) return;
    slot.dead = true;
    clearTimer(slot);
    returnPermits(slot);
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    void slot.worker.terminate().catch(() => {});
    const job = slot.job;
    slot.job = null;
    if (job) job.reject(error);
    pump();
  };

  const spawn = (): Slot => {
    const worker = startWorker(url);
    const slot: Slot = { worker, job: null, dead: false, timer: null, held: 0 };
    worker.on("message", (reply: Reply | PermitMessage) => {
      if ("permit" in reply) {
        if (reply.permit === "acquire") waiting.push(slot);
        else if (slot.held > 0) {
          slot.held--;
          permitsInUse--;
        }
        grantPermits();
        return;
      }
      if (!slot.job || reply.id !== slot.job.id) return;
      if (reply.ok)
        finish(slot, (job) => job.resolve(reply.files.map((f) => ({ ...f, bytes: new Uint8Array(f.bytes) }))));
      else {
        const { code, message } = reply.error;
        finish(slot, (job) => job.reject(code ? new ImagingError(code, message) : new Error(message)));
      }
    });
    worker.on("error", (e) =>
      kill(slot, new Error(`imaging worker crashed: ${e instanceof Error ? e.message : String(e)}`)),
    );
    worker.on("exit", (code) => kill(slot, new Error(`imaging worker exited (code ${code})`)));
    slots.push(slot);
    return slot;
  };

  function pump() {
    while (!closed && queue.length > 0) {
      let slot = slots.find((s) => !s.dead && !s.job);
      if (!slot) {
        if (slots.length >= size) return;
        slot = spawn();
      }
      const job = queue.shift() as Job;
      slot.job = job;
      slot.worker.ref();
      const running = slot;
      slot.timer = setTimeout(
        () => kill(running, new ImagingJobTimeout(`imaging job timed out after ${jobTimeoutMs} ms`)),
        jobTimeoutMs,
      );
      slot.timer.unref?.();
      const { source } = job;
      job.source = new Uint8Array(0);
      try {
        slot.worker.postMessage(
          { id: job.id, kind: job.kind, source, options: job.options, limits: job.limits, context: job.context },
          [source.buffer as ArrayBuffer],
        );
      } catch (e) {
        kill(slot, e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  return {
    size,
    run(kind, source, options, limits, context = { brandName: null }) {
      if (closed) return Promise.reject(new ImagingPoolClosed("imaging pool is closed"));
      return new Promise<AssetFile[]>((resolve, reject) => {
        // A private copy is transferred: the caller's buffer stays usable.
        queue.push({ id: nextId++, kind, source: new Uint8Array(source), options, limits, context, resolve, reject });
        pump();
      });
    },
    async close() {
      closed = true;
      const err = new ImagingPoolClosed("imaging pool closed");
      for (const job of queue.splice(0)) job.reject(err);
      const all = slots.splice(0);
      for (const s of all) {
        s.dead = true;
        clearTimer(s);
        returnPermits(s);
        if (s.job) s.job.reject(err);
        s.job = null;
      }
      await Promise.all(all.map((s) => s.worker.terminate().catch(() => 0)));
    },
  };
}
