import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The fleet test's one adapter to how the service is deployed: the nginx configuration in front of the
 * instances and the command that starts one instance. Everything else in scripts/fleet-test.ts only knows
 * "an nginx config file", "a command plus env", so pointing the test at deploy/'s files later means changing
 * this module alone (render deploy/nginx.conf's upstream with these ports instead of writing one here, and start
 * instances with the compiled build's command).
 */

const ROOT = join(import.meta.dir, "..", "..");

export interface NginxTopology {
  /** Where nginx listens (127.0.0.1). */
  port: number;
  /** The instances' ports (127.0.0.1), in the upstream. */
  instancePorts: number[];
}

/** Longest `Prefer: wait=N` the API accepts is 30 s; the proxy gives such requests this long to answer. */
const WAIT_READ_TIMEOUT_S = 45;

/**
 * Writes `<dir>/nginx.conf` (and the temp directories nginx wants under its prefix) and returns its path.
 * - upstream of every instance with passive health checks (max_fails/fail_timeout: an instance that refuses
 *   connections is skipped for 2 s) and keepalive connections;
 * - a failed connection or a 502 is retried on the next instance for idempotent requests (nginx never resends
 *   a POST it has sent: the client retries it with its Idempotency-Key);
 * - X-Forwarded-For appended ($proxy_add_x_forwarded_for), as TRUSTED_PROXIES expects;
 * - streams (`…/events`) unbuffered with a long read timeout; `GET /api/{predictions,assets}/{id}` (which take
 *   `Prefer: wait`) a read timeout above 30 s; everything else short.
 */
export function writeNginxConfig(dir: string, t: NginxTopology): string {
  for (const sub of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"])
    mkdirSync(join(dir, sub), { recursive: true });
  const servers = t.instancePorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join("\n");
  const proxy = `
      proxy_pass http://logo_api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout http_502;
      proxy_next_upstream_tries 3;
      proxy_next_upstream_timeout 10s;
      proxy_connect_timeout 2s;`;
  const conf = `# Written by scripts/fleet/topology.ts for the fleet test.
worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
events { worker_connections 1024; }
http {
  access_log ${join(dir, "access.log")};
  client_body_temp_path ${join(dir, "client_body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};
  client_max_body_size 1m;
  upstream logo_api {
${servers}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${t.port};
    # Server-Sent Events: no buffering, a long read timeout (the API sends a comment at least every 15 s).
    location ~ ^/api/(predictions|assets)/[^/]+/events$ {${proxy}
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 1h;
    }
    # GET with Prefer: wait=N (N <= 30).
    location ~ ^/api/(predictions|assets)/[0-9a-fA-F-]+$ {${proxy}
      proxy_read_timeout ${WAIT_READ_TIMEOUT_S}s;
    }
    location / {${proxy}
      proxy_read_timeout 20s;
    }
  }
}
`;
  const file = join(dir, "nginx.conf");
  writeFileSync(file, conf);
  return file;
}

/** The nginx command for a config written by writeNginxConfig: a plain foreground process (no daemon). */
export function nginxCommand(dir: string): { cmd: string; args: string[] } {
  const cmd = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"].find((p) => existsSync(p)) ?? "nginx";
  return { cmd, args: ["-p", dir, "-e", join(dir, "error.log"), "-c", join(dir, "nginx.conf"), "-g", "daemon off;"] };
}

/**
 * The command that starts one instance (its settings come as env: PORT, DATABASE_URL, …). The Bun binary is
 * run directly, not through npx or npm, so the test's SIGTERM and SIGKILL reach the server process itself.
 */
export function instanceCommand(): { cmd: string; args: string[]; cwd: string } {
  const local = join(ROOT, "node_modules", ".bin", "bun");
  const cmd = process.versions.bun ? process.execPath : existsSync(local) ? local : "bun";
  return { cmd, args: ["src/index.ts"], cwd: ROOT };
}
