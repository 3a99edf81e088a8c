/** Reading a text/event-stream answer in tests: events as they arrive, comments and `retry:` lines included. */

export interface SseEvent {
  event?: string;
  id?: string;
  data?: string;
  retry?: number;
  /** A comment line's text (": ping" → "ping"). */
  comment?: string;
  /** When it arrived (performance.now()). */
  at: number;
}

export interface SseReader {
  status: number;
  headers: Headers;
  /** Every event so far. */
  events: SseEvent[];
  /** The next event not yet taken by next(); fails after `timeoutMs` of real time. */
  next(timeoutMs?: number): Promise<SseEvent>;
  /** The next event that is not a comment. */
  nextEvent(timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  isEnded(): boolean;
  /** The client goes away. */
  close(): Promise<void>;
}

export function parseBlock(block: string, at: number): SseEvent | null {
  const e: SseEvent = { at };
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) e.comment = line.slice(1).trim();
    else {
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "event") e.event = value;
      else if (field === "id") e.id = value;
      else if (field === "data") data.push(value);
      else if (field === "retry") e.retry = Number(value);
    }
  }
  if (data.length) e.data = data.join("\n");
  return Object.keys(e).length > 1 ? e : null;
}

export function readSse(res: Response): SseReader {
  const events: SseEvent[] = [];
  let taken = 0;
  let ended = false;
  let wake: (() => void) | undefined;
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  const done = (async () => {
    let buffer = "";
    try {
      for (;;) {
        if (!reader) break;
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut = buffer.indexOf("\n\n");
        while (cut >= 0) {
          const e = parseBlock(buffer.slice(0, cut), performance.now());
          if (e) events.push(e);
          buffer = buffer.slice(cut + 2);
          cut = buffer.indexOf("\n\n");
        }
        wake?.();
      }
    } catch {
      // canceled by close()
    } finally {
      ended = true;
      wake?.();
    }
  })();
  const next = async (timeoutMs = 5000) => {
    const deadline = performance.now() + timeoutMs;
    while (events.length <= taken) {
      if (ended) throw new Error(`the stream ended; events: ${JSON.stringify(events)}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms; events: ${JSON.stringify(events)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return events[taken++] as SseEvent;
  };
  return {
    status: res.status,
    headers: res.headers,
    events,
    next,
    async nextEvent(timeoutMs = 5000) {
      for (;;) {
        const e = await next(timeoutMs);
        if (e.comment === undefined || e.event || e.data) return e;
      }
    },
    ended: done,
    isEnded: () => ended,
    async close() {
      await reader?.cancel().catch(() => undefined);
      await done;
    },
  };
}
