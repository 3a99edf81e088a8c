import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../types";
import { registerHealthRoutes } from "./health";
import { registerModelRoutes } from "./models";

/** Every route module, in the order they appear in the document. */
export function registerRoutes(app: OpenAPIHono<AppEnv>) {
  registerHealthRoutes(app);
  registerModelRoutes(app);
}
