import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A webhook receiver on 127.0.0.1 (port 0): records every delivery (headers lowercased, the raw body, when it
 * arrived) and answers what the test scripted — `respond(500, 500)` makes the next two deliveries answer 500,
 * then the default (200) again; a reply may also be "hang" (never answers; released at close) or a redirect.
 *
 *   const receiver = await startWebhookReceiver();      // afterAll(() => receiver.close())
 *   body: { webhook: receiver.url }
 */
export interface Receipt {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

export type ReceiverReply = number | "hang" | { status: number; headers?: Record<string, string> };

export interface WebhookReceiver {
  url: string;
  receipts: Receipt[];
  /** The next deliveries answer these, one each, in order; then the default. */
  respond(...replies: ReceiverReply[]): void;
  setDefault(reply: ReceiverReply): void;
  /** Receipts whose body is about this prediction. */
  receiptsFor(predictionId: string): Receipt[];
  reset(): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receipts: Receipt[] = [];
  const queue: ReceiverReply[] = [];
  let fallback: ReceiverReply = 200;
  const hanging = new Set<ServerResponse>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
    );
    receipts.push({ path: req.url ?? "/", headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
    const reply = queue.shift() ?? fallback;
    if (reply === "hang") {
      hanging.add(res);
      return;
    }
    const { status, headers: extra } = typeof reply === "number" ? { status: reply, headers: {} } : reply;
    res.writeHead(status, { "content-type": "application/json", ...extra });
    res.end(JSON.stringify({ ok: status < 300 }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    receipts,
    respond: (...replies) => queue.push(...replies),
    setDefault: (reply) => {
      fallback = reply;
    },
    receiptsFor: (id) =>
      receipts.filter((r) => {
        try {
          return (JSON.parse(r.body) as { data?: { id?: string } }).data?.id === id;
        } catch {
          return false;
        }
      }),
    reset() {
      receipts.length = 0;
      queue.length = 0;
      fallback = 200;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
