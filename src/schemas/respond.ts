import type { z } from "@hono/zod-openapi";

/**
 * Response bodies are built by the mappers in src/schemas from typed rows, so TypeScript already checks
 * their shape against the schema; parsing them again checks the refinements (ranges, patterns, lengths).
 * That second check runs in development and tests (where test/helpers also validate bodies against the
 * schemas and the document), and not in production, where it was paid on every response of the hot reads.
 * VALIDATE_RESPONSES overrides the default; createApp sets it from the configuration.
 */
let validate = true;

export function setResponseValidation(on: boolean): void {
  validate = on;
}

/** The body, parsed by `schema` when response validation is on. */
export function respond<S extends z.ZodType>(schema: S, body: z.output<S>): z.output<S> {
  return validate ? (schema.parse(body) as z.output<S>) : body;
}
