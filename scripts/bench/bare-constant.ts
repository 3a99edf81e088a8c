/** The bare limit without a database: Hono answering a constant JSON body. */
import { bareApp, serveBare } from "./serve";

const body = { status: "ok", version: "1.0.0" };
const app = bareApp();
app.get("/", (c) => c.json(body));

await serveBare(app);
