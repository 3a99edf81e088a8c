import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { Executor } from "../../db";
import { webhookSecret } from "../../db/schema";
import { WEBHOOK_SECRET_BYTES, WEBHOOK_SECRET_OVERLAP_MS, WEBHOOK_SECRET_PREFIX } from "../../domain/webhooks";
import type { Config } from "../../env";
import type { Clock } from "../../lib/clock";

/**
 * Per-user signing secrets for outgoing webhooks. Stored encrypted with AES-256-GCM under a key derived
 * (HKDF-SHA256) from BETTER_AUTH_SECRET, so a database dump alone cannot forge deliveries. A rotation keeps
 * the previous secret signing for WEBHOOK_SECRET_OVERLAP_MS, so receivers can switch without losing events.
 */

interface SecretDeps {
  db: Executor;
  config: Pick<Config, "BETTER_AUTH_SECRET">;
  clock: Clock;
}

const ENCRYPTION_VERSION = "v1";

function encryptionKey(authSecret: string): Buffer {
  return Buffer.from(hkdfSync("sha256", authSecret, "logo-api", "outgoing webhook signing secrets v1", 32));
}

export function encryptSecret(plain: string, authSecret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", encryptionKey(authSecret), iv);
  const sealed = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return `${ENCRYPTION_VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64")}`;
}

export function decryptSecret(stored: string, authSecret: string): string {
  const [version, data] = stored.split(".");
  if (version !== ENCRYPTION_VERSION || !data) throw new Error("unknown webhook secret encryption");
  const bytes = Buffer.from(data, "base64");
  const decipher = createDecipheriv("aes-256-gcm", encryptionKey(authSecret), bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(12, 28));
  return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
}

export const newSigningSecret = () => WEBHOOK_SECRET_PREFIX + randomBytes(WEBHOOK_SECRET_BYTES).toString("base64");

/** The user's current signing secret, created on first use (concurrent first uses agree on one). */
export async function getSigningSecret(deps: SecretDeps, userId: string): Promise<string> {
  return (await activeSigningSecrets(deps, userId))[0] as string;
}

/**
 * The secrets that sign a delivery now: the current one first, then the previous one while its overlap
 * lasts. Creates the user's secret when there is none yet.
 */
export async function activeSigningSecrets(deps: SecretDeps, userId: string): Promise<string[]> {
  const { db, config, clock } = deps;
  let [row] = await db.select().from(webhookSecret).where(eq(webhookSecret.userId, userId));
  if (!row) {
    await db
      .insert(webhookSecret)
      .values({
        userId,
        currentEncrypted: encryptSecret(newSigningSecret(), config.BETTER_AUTH_SECRET),
        createdAt: clock.now(),
      })
      .onConflictDoNothing();
    [row] = await db.select().from(webhookSecret).where(eq(webhookSecret.userId, userId));
    if (!row) throw new Error("webhook secret insert returned nothing");
  }
  const secrets = [decryptSecret(row.currentEncrypted, config.BETTER_AUTH_SECRET)];
  if (row.previousEncrypted && row.previousExpiresAt && row.previousExpiresAt > clock.now())
    secrets.push(decryptSecret(row.previousEncrypted, config.BETTER_AUTH_SECRET));
  return secrets;
}

/**
 * Replaces the user's secret with a new one; the replaced one keeps signing for WEBHOOK_SECRET_OVERLAP_MS
 * (a second rotation within that time drops the oldest). Returns the new secret.
 */
export async function rotateSigningSecret(deps: SecretDeps, userId: string): Promise<string> {
  const { db, config, clock } = deps;
  const now = clock.now();
  const fresh = newSigningSecret();
  const encrypted = encryptSecret(fresh, config.BETTER_AUTH_SECRET);
  await db
    .insert(webhookSecret)
    .values({ userId, currentEncrypted: encrypted, createdAt: now, rotatedAt: now })
    .onConflictDoUpdate({
      target: webhookSecret.userId,
      set: {
        previousEncrypted: sql`${webhookSecret.currentEncrypted}`,
        previousExpiresAt: new Date(now.getTime() + WEBHOOK_SECRET_OVERLAP_MS),
        currentEncrypted: encrypted,
        rotatedAt: now,
      },
    });
  return fresh;
}
