/** The signed-in caller as routes and services see it, whichever credential it came with. */
export interface AuthUser {
  id: string;
  email: string;
  name: string;
  role: string | null;
  isAnonymous: boolean;
}

/** Better Auth keeps roles as a comma-separated list. */
export const isAdmin = (u: { role?: string | null }) =>
  (u.role ?? "")
    .split(",")
    .map((r) => r.trim())
    .includes("admin");
