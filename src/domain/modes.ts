/**
 * Test mode: an API key is `live` or `test`, chosen when it is created (`metadata.mode`). A test key's requests see
 * and make only `livemode: false` objects, charged to a separate test balance; live credentials never see them.
 * The mode is carried by the key itself: its prefix is part of the secret (hashed with it), so a key's mode cannot
 * be changed after creation nor claimed by renaming it. Keys without our prefixes (made before test mode) are live.
 */

export type KeyMode = "live" | "test";

export const KEY_PREFIXES: Record<KeyMode, string> = { live: "logo_live_", test: "logo_test_" };

export const KEY_MODES = Object.keys(KEY_PREFIXES) as KeyMode[];

/** The mode of a verified credential: test only for a key with the test prefix (sessions are live). */
export const isLiveCredential = (apiKey: string | null | undefined): boolean => !apiKey?.startsWith(KEY_PREFIXES.test);
