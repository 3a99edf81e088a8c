/** The signed-in caller as routes and services see it, whichever credential it came with. */
export interface AuthUser {
  id: string;
  email: string;
  name: string;
  role: string | null;
  isAnonymous: boolean;
  /**
   * false when the request came with a test key (src/domain/modes.ts): it then sees and makes only test objects
   * and spends the test balance. Sessions and live keys are live.
   */
  livemode: boolean;
}

/** Better Auth keeps roles as a comma-separated list. */
export const isAdmin = (u: { role?: string | null }) =>
  (u.role ?? "")
    .split(",")
    .map((r) => r.trim())
    .includes("admin");
