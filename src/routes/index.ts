import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../deps";
import { registerAdminRoutes } from "./admin";
import { registerAssetRoutes } from "./assets";
import { registerCreditRoutes } from "./credits";
import { registerEventRoutes } from "./events";
import { registerFileRoutes } from "./files";
import { registerGenerationRoutes } from "./generations";
import { registerHealthRoutes } from "./health";
import { registerMetricsRoutes } from "./metrics";
import { registerModelRoutes } from "./models";
import { registerPredictionRoutes } from "./predictions";
import { registerSandboxRoutes } from "./sandbox";
import { registerWebhookDeliveryRoutes } from "./webhook-deliveries";
import { registerWebhookRoutes } from "./webhooks";

/** Every route module, in the order they appear in the document. */
export function registerRoutes(app: OpenAPIHono<AppEnv>) {
  registerHealthRoutes(app);
  registerMetricsRoutes(app);
  registerModelRoutes(app);
  registerPredictionRoutes(app);
  registerGenerationRoutes(app);
  registerAssetRoutes(app);
  registerEventRoutes(app);
  registerFileRoutes(app);
  registerSandboxRoutes(app);
  registerCreditRoutes(app);
  registerWebhookRoutes(app);
  registerWebhookDeliveryRoutes(app);
  registerAdminRoutes(app);
}
