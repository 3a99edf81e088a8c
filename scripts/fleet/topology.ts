import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The fleet test's one adapter to how the service is deployed: the nginx configuration in front of the
 * instances and the command that starts one instance. The nginx configuration is deploy/'s, as it is; everything
 * else in scripts/fleet-test.ts only knows "an nginx config file", "a command plus env".
 */

const ROOT = join(import.meta.dir, "..", "..");

export interface NginxTopology {
  /** Where nginx listens (127.0.0.1). */
  port: number;
  /** The instances' ports (127.0.0.1), in the upstream. */
  instancePorts: number[];
}

const DEPLOY_NGINX = join(ROOT, "deploy", "nginx");

/**
 * Lays out deploy/nginx/ in `<dir>` as it is — nginx.conf, logo-api.conf and its upstream list — with only what a
 * local fleet must change: the listen address (127.0.0.1 and a free port instead of 8080) and one upstream line
 * per instance port (with the server parameters deploy/ gives its own lines). Returns the nginx.conf path.
 */
export function writeNginxConfig(dir: string, t: NginxTopology): string {
  for (const sub of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"])
    mkdirSync(join(dir, "tmp", sub), { recursive: true });
  // nginx started as root runs its workers as nobody: they must reach the temporary directories.
  chmodSync(dir, 0o755);
  for (const sub of ["", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) chmodSync(join(dir, "tmp", sub), 0o777);
  copyFileSync(join(DEPLOY_NGINX, "nginx.conf"), join(dir, "nginx.conf"));
  const site = readFileSync(join(DEPLOY_NGINX, "logo-api.conf"), "utf8");
  if (!/^\s*listen 8080;$/m.test(site)) throw new Error("fleet: deploy/nginx/logo-api.conf has no `listen 8080;` line");
  writeFileSync(join(dir, "logo-api.conf"), site.replace(/^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${t.port};`));
  const line = readFileSync(join(DEPLOY_NGINX, "logo-api-upstreams.conf"), "utf8")
    .split("\n")
    .find((l) => l.startsWith("server "));
  const params = line?.replace(/^server \S+\s*/, "").replace(/;$/, "") ?? "";
  const servers = t.instancePorts.map((p) => `server 127.0.0.1:${p}${params ? ` ${params}` : ""};`).join("\n");
  writeFileSync(join(dir, "logo-api-upstreams.conf"), `${servers}\n`);
  return join(dir, "nginx.conf");
}

/** The nginx command for a config written by writeNginxConfig: a plain foreground process (no daemon). */
export function nginxCommand(dir: string): { cmd: string; args: string[] } {
  const cmd = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"].find((p) => existsSync(p)) ?? "nginx";
  return { cmd, args: ["-p", dir, "-e", join(dir, "error.log"), "-c", join(dir, "nginx.conf"), "-g", "daemon off;"] };
}

/**
 * The command that starts one instance (its settings come as env: PORT, DATABASE_URL, …): the compiled build on the
 * Node binary named by FLEET_NODE when it is set (CI: Node 24 LTS, `npm run build` done), else the sources on Bun.
 * The binary is run directly, not through npx or npm, so the test's SIGTERM and SIGKILL reach the server itself.
 */
export function instanceCommand(): { cmd: string; args: string[]; cwd: string } {
  const node = process.env.FLEET_NODE;
  if (node) {
    if (!existsSync(join(ROOT, "dist", "index.js")))
      throw new Error("fleet: FLEET_NODE needs the compiled build (npm run build)");
    return { cmd: node, args: ["--enable-source-maps", "dist/index.js"], cwd: ROOT };
  }
  const local = join(ROOT, "node_modules", ".bin", "bun");
  const cmd = process.versions.bun ? process.execPath : existsSync(local) ? local : "bun";
  return { cmd, args: ["src/index.ts"], cwd: ROOT };
}
