import { hashPassword, verifyPassword } from "better-auth/crypto";
import type { PasswordHasher } from "../../src/auth/instance";

const hashes = new Map<string, Promise<string>>();
const verdicts = new Map<string, Promise<boolean>>();

/**
 * Better Auth's own scrypt hashing and checking, each computed once per input in this test process: every answer
 * is the one the real scrypt gives (a wrong password is still refused), but the hundreds of sign-ups and sign-ins
 * with the same test password cost one hash and one check instead of a few hundred milliseconds each.
 * Accounts with the same password share one salt here; production hashes every password with its own.
 */
export const memoizedScrypt: PasswordHasher = {
  hash(password) {
    let hash = hashes.get(password);
    if (!hash) {
      hash = hashPassword(password);
      hashes.set(password, hash);
    }
    return hash;
  },
  verify({ hash, password }) {
    const key = `${hash}\u0000${password}`;
    let verdict = verdicts.get(key);
    if (!verdict) {
      verdict = verifyPassword({ hash, password });
      verdicts.set(key, verdict);
    }
    return verdict;
  },
};
