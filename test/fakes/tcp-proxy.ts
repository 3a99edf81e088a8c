import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

/**
 * A TCP proxy on 127.0.0.1 between the server and PostgreSQL, to play database outages:
 * - `pass`: bytes flow both ways;
 * - `cut`: every open connection is destroyed (the peer sees a reset) and new ones are accepted and
 *   destroyed at once (the client sees its connection refused/terminated);
 * - `partition`: packets are silently dropped: open connections and new ones stay open, but nothing
 *   is forwarded either way (what is sent meanwhile is held, as TCP would retransmit it);
 * - `restore()`: back to `pass`; what a partition held is delivered.
 */
export type ProxyMode = "pass" | "cut" | "partition";

interface Pair {
  client: Socket;
  upstream: Socket;
}

export interface TcpProxy {
  port: number;
  url(databaseUrl: string): string;
  mode(): ProxyMode;
  cut(): void;
  partition(): void;
  restore(): void;
  /** Connections currently open through the proxy. */
  openConnections(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = "pass";
  const pairs = new Set<Pair>();

  const destroy = (p: Pair) => {
    p.client.destroy();
    p.upstream.destroy();
    pairs.delete(p);
  };
  const pause = (p: Pair) => {
    p.client.pause();
    p.upstream.pause();
  };
  const resume = (p: Pair) => {
    p.client.resume();
    p.upstream.resume();
  };

  const server: Server = createServer((client) => {
    if (mode === "cut") {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(target.port, target.host);
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // No pipe(): it resumes a source on drain, which would undo a partition's pause. A paused socket
    // reads nothing, so what is sent during a partition waits in the kernel instead of being forwarded.
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => client.write(chunk));
    if (mode === "partition") pause(pair);
    const end = () => destroy(pair);
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("close", end);
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  return {
    port,
    url(databaseUrl) {
      const u = new URL(databaseUrl);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    mode: () => mode,
    cut() {
      mode = "cut";
      for (const p of [...pairs]) destroy(p);
    },
    partition() {
      mode = "partition";
      for (const p of pairs) pause(p);
    },
    restore() {
      mode = "pass";
      for (const p of pairs) resume(p);
    },
    openConnections: () => pairs.size,
    async close() {
      for (const p of [...pairs]) destroy(p);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
