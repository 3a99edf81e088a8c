import { apiKey } from "@better-auth/api-key";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { admin, anonymous, bearer, openAPI } from "better-auth/plugins";
import type { Database } from "../db";
import * as authSchema from "../db/schemas/auth";
import type { Config } from "../env";
import { type Logger, scrubQueryParams } from "../lib/logger";
import { grantSignupBonus, transferGuestAccount } from "../services/credits";
import { adminNeedsVerifiedEmail } from "./admins";
import { type AuthHookDeps, logoRules } from "./hooks";
import type { SessionCache } from "./session-cache";

type AuthUserRecord = NonNullable<Awaited<ReturnType<AuthHookDeps["sessionUser"]>>>;

export interface AuthDeps {
  config: Config;
  db: Database;
  logger: Logger;
  sessionCache: SessionCache;
  /**
   * How passwords are hashed and checked; Better Auth's own scrypt when absent (always, outside tests). Tests pass
   * the same scrypt behind a memo, so signing up a hundred users with one password costs one hash.
   */
  passwordHasher?: PasswordHasher;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(data: { hash: string; password: string }): Promise<boolean>;
}

/** The Better Auth instance: email/password, anonymous guests, bearer tokens, API keys, the admin role. */
export function createAuth({ config, db, logger, sessionCache, passwordHasher }: AuthDeps) {
  const adminEmails = new Set(config.ADMIN_EMAILS);
  const log = logger.child({ component: "better-auth" });
  // The rules' hook reads the caller through this same instance (bearer and API-key plugins included).
  const sessionUser = async (headers: Headers): Promise<AuthUserRecord | null> =>
    ((await auth.api.getSession({ headers }))?.user as AuthUserRecord | undefined) ?? null;
  const auth = betterAuth({
    appName: "Logo API",
    basePath: "/api/auth",
    baseURL: config.BETTER_AUTH_URL ?? `http://localhost:${config.PORT}`,
    secret: config.BETTER_AUTH_SECRET,
    trustedOrigins: config.ALLOWED_ORIGINS,
    database: drizzleAdapter(db, { provider: "pg", schema: authSchema }),
    emailAndPassword: {
      enabled: true,
      autoSignIn: true,
      minPasswordLength: 8,
      maxPasswordLength: 128,
      password: passwordHasher,
    },
    session: { cookieCache: { enabled: true, maxAge: 60 } },
    // An unexpected error (a lost database connection) is thrown to our error handler, which tells an
    // outage (503) from a bug (500), instead of becoming a bare 500 response.
    onAPIError: { throw: true },
    advanced: {
      database: { generateId: "uuid" },
      useSecureCookies: config.NODE_ENV === "production",
    },
    logger: {
      level: "warn",
      log: (level, message, ...args) => {
        const fn =
          level === "error" ? log.error.bind(log) : level === "warn" ? log.warn.bind(log) : log.debug.bind(log);
        fn({ args: args.length ? args.map((a) => scrubQueryParams(String(a))) : undefined }, scrubQueryParams(message));
      },
    },
    databaseHooks: {
      user: {
        create: {
          before: async (user) => {
            if (
              user.email &&
              adminEmails.has(user.email.toLowerCase()) &&
              (!adminNeedsVerifiedEmail(config) || user.emailVerified)
            )
              return { data: { ...user, role: "admin" } };
            return { data: user };
          },
          // Runs after Better Auth's transaction commits; the unique index makes it once-only.
          after: async (user) => {
            const isAnonymous = Boolean((user as { isAnonymous?: boolean | null }).isAnonymous);
            await grantSignupBonus(db, user.id, isAnonymous ? config.ANONYMOUS_CREDITS : config.SIGNUP_CREDITS);
          },
        },
      },
    },
    plugins: [
      anonymous({
        emailDomainName: config.GUEST_EMAIL_DOMAIN,
        onLinkAccount: async ({ anonymousUser, newUser }) => {
          const guestId = anonymousUser.user.id;
          const userId = newUser.user.id;
          if (guestId === userId || (newUser.user as { isAnonymous?: boolean }).isAnonymous) return;
          const { moved } = await transferGuestAccount(db, guestId, userId);
          log.info({ guestId, userId, moved }, "guest account linked");
        },
      }),
      admin(),
      bearer(),
      apiKey({
        enableSessionForAPIKeys: true,
        // The plugin's default is 10 requests a day per key; integrators poll, so allow a real rate.
        rateLimit: { enabled: true, timeWindow: 60_000, maxRequests: 600 },
      }),
      openAPI({ disableDefaultReference: true }),
      logoRules({ db, sessionCache, sessionUser }),
    ],
  });
  return auth;
}

export type Auth = ReturnType<typeof createAuth>;
