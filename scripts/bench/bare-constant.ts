/** The bare limit without a database: Hono answering a constant JSON body. */
import { Hono } from "hono";
import { serveBare } from "./serve";

const body = { status: "ok", version: "1.0.0" };
const app = new Hono();
app.get("/", (c) => c.json(body));

await serveBare(app);
