import { apiKey } from "@better-auth/api-key";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { admin, anonymous, bearer, openAPI } from "better-auth/plugins";
import type { Database } from "../db";
import * as authSchema from "../db/schemas/auth";
import type { Config } from "../env";
import { CLIENT_ADDRESS_HEADER } from "../lib/client-address";
import type { Clock } from "../lib/clock";
import { type Logger, scrubQueryParams } from "../lib/logger";
import { grantWelcomeCredits } from "../services/free-credits";
import { transferGuestAccount } from "../services/guest-transfer";
import { authLimiterStorage, createPostgresRateLimitStore } from "../services/rate-limit-store";
import { adminNeedsVerifiedEmail } from "./admins";
import { type AuthHookDeps, logoRules, refuseApiKeys } from "./hooks";
import type { SessionCache } from "./session-cache";

type AuthUserRecord = NonNullable<Awaited<ReturnType<AuthHookDeps["sessionUser"]>>>;

export interface AuthDeps {
  config: Config;
  db: Database;
  logger: Logger;
  sessionCache: SessionCache;
  clock: Clock;
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
export function createAuth({ config, db, logger, sessionCache, clock, passwordHasher }: AuthDeps) {
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
    // Runs before every plugin's hooks: an API key is refused on /api/auth before the API-key plugin turns it
    // into a session (enableSessionForAPIKeys, which our own routes need to read a key's user).
    hooks: { before: refuseApiKeys },
    // Better Auth's per-address limiter (sign-in and sign-up: 3 per 10 s; 100 per 10 s elsewhere), on in
    // production as by its default, but decided by our configuration rather than its own reading of NODE_ENV.
    // With RATE_LIMIT_STORE=postgres its counts live in rate_limit_bucket beside our tiers', so they hold across
    // instances; otherwise in its own memory, per instance.
    rateLimit: {
      enabled: config.NODE_ENV === "production",
      ...(config.RATE_LIMIT_STORE === "postgres"
        ? { customStorage: authLimiterStorage(createPostgresRateLimitStore(db), () => clock.now()) }
        : {}),
    },
    // An unexpected error (a lost database connection) is thrown to our error handler, which tells an
    // outage (503) from a bug (500), instead of becoming a bare 500 response.
    onAPIError: { throw: true },
    advanced: {
      database: { generateId: "uuid" },
      useSecureCookies: config.NODE_ENV === "production",
      // A frontend on another site (CROSS_SITE_COOKIES) only gets its cookie back with SameSite=None, which browsers
      // accept only with Secure (https, or http://localhost). Writes made with it still need an allowed Origin.
      ...(config.CROSS_SITE_COOKIES ? { defaultCookieAttributes: { sameSite: "none" as const, secure: true } } : {}),
      // Our /api/auth handler sets this header to the client address it resolved (TRUSTED_PROXIES), replacing
      // any client copy; Better Auth's limiter and session metadata read nothing else.
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
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
          // Runs after Better Auth's transaction commits; the unique index makes it once-only. The welcome
          // credits draw on the budget of the client address that made the request (none for a script).
          after: async (user, ctx) => {
            const isAnonymous = Boolean((user as { isAnonymous?: boolean | null }).isAnonymous);
            const address =
              ctx?.headers?.get(CLIENT_ADDRESS_HEADER) ?? ctx?.request?.headers.get(CLIENT_ADDRESS_HEADER);
            const result = await grantWelcomeCredits(db, {
              userId: user.id,
              amount: isAnonymous ? config.ANONYMOUS_CREDITS : config.SIGNUP_CREDITS,
              address: address ?? null,
              perDay: config.FREE_CREDITS_PER_ADDRESS_PER_DAY,
              now: clock.now(),
            });
            if (!result.granted && result.reason === "budget_exhausted")
              log.info(
                { userId: user.id, clientAddress: address },
                "welcome credits not granted: address budget spent",
              );
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
        // Our tiers limit API-key requests like any other (keyed by the key's user) and answer our 429; a
        // second per-key limiter here would refuse with 401 and write a counter per request. Off for every
        // key, including those created while it was on (the plugin checks this option first).
        rateLimit: { enabled: false },
        // A key's mode is `metadata.mode` at creation (hooks.ts sets its prefix, logo_live_ or logo_test_, from it).
        enableMetadata: true,
        // Enough of the key to show its mode and tell keys apart: "logo_test_AbCd".
        startingCharactersConfig: { shouldStore: true, charactersLength: 14 },
      }),
      openAPI({ disableDefaultReference: true }),
      logoRules({
        db,
        sessionCache,
        sessionUser,
        clock,
        signinMaxFailures: config.SIGNIN_MAX_FAILURES,
        signinMaxFailuresPerAccount: config.SIGNIN_MAX_FAILURES_PER_ACCOUNT,
      }),
    ],
  });
  return auth;
}

export type Auth = ReturnType<typeof createAuth>;
