import createClient, { type ClientOptions } from "openapi-fetch";
import type { paths } from "../../openapi/schema";

export type { components, operations, paths } from "../../openapi/schema";

/**
 * Typed client for the Logo API over the committed OpenAPI types.
 * `createLogoApiClient({ baseUrl: "https://api…", headers: { "x-api-key": key } })`.
 */
export function createLogoApiClient(options: ClientOptions = {}) {
  return createClient<paths>(options);
}

export type LogoApiClient = ReturnType<typeof createLogoApiClient>;
