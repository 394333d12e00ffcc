/**
 * The HTTP API for the operator's backend (docs/api.md): a Hono app of the routes declared in
 * src/api/routes.ts, validated with their zod schemas, answering refusals as RFC 9457 problem
 * details (src/api/problems.ts), and describing itself at `/api/openapi.json` (OpenAPI 3.1, with
 * the webhook events). The Worker hands it every `/api/` request but the socket route
 * (src/worker/worker.ts), loading this module on the first such request: the chat's own path
 * never pays for Hono and zod.
 *
 * Each route checks what it can here and asks the room's object the rest over RPC (src/wire/operator.ts):
 * the object stages it in its burst like a client's event and answers after the commit.
 *
 * Access: with the `API_KEY` secret unset the API is off (404), except the room's size, which
 * predates it and keeps its own rule (anyone in open mode, a moderator's token in signed mode).
 * With it set, every route needs `Authorization: Bearer <API_KEY>` (401 otherwise), except the
 * document itself.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { methodNotAllowed } from "hono/method-not-allowed";
import { type Config, ConfigError, readConfig } from "../deployment/config.ts";
import { logEvent } from "../deployment/log-event.ts";
import { limitRoomRequest, ROOM_REQUEST_LIMIT_PERIOD_SECONDS } from "../gate/room-request-limit.ts";
import { checkToken } from "../gate/token.ts";
import { WEBHOOK_EVENT_TYPES, type WebhookBody } from "../room/webhook-events.ts";
import { OPENAPI_PATH } from "../wire/operator.ts";
import { checkName, checkText } from "../wire/parse.ts";
import { checkSettingsPatch } from "../wire/settings.ts";
import { bearerOf, isApiKey } from "./api-key.ts";
import { ApiProblem, type FieldError, fieldErrors, problem, unavailable } from "./problems.ts";
import * as routes from "./routes.ts";
import { WebhookBodySchema } from "./webhook-schemas.ts";

/** What every handler can read: the Worker's bindings, and the settings parsed from them. */
type ApiEnv = { Bindings: Env; Variables: { config: Config } };

/** `/api/rooms/NAME`: the room's size, which answers with the API off too. */
const ROOM_STATS_PATH = /^\/api\/rooms\/[^/]+$/;

/** The room's object (RPC stub); the room is told its name with every call, for the events it sends. */
function roomOf(env: Env, name: string) {
	return env.ROOMS.get(env.ROOMS.idFromName(name));
}

const api = new OpenAPIHono<ApiEnv>({
	// A request that does not match its route's schemas: 400, naming every field.
	defaultHook: (result) => {
		if (result.success) return;
		const where = result.target === "json" ? "body" : result.target === "param" ? "path" : result.target;
		throw new ApiProblem("invalid", `the ${where} is not valid`, { errors: fieldErrors(result.error, result.target) });
	},
});

// -- access, method and size, before any route ----------------------------------------------------

// Every answer is JSON (or problem details): never to be read as anything else.
api.use("/api/*", async (c, next) => {
	await next();
	c.res.headers.set("X-Content-Type-Options", "nosniff");
});

api.use("/api/*", async (c, next) => {
	let config: Config;
	try {
		config = readConfig(c.env);
	} catch (error) {
		if (!(error instanceof ConfigError)) throw error;
		logEvent("bad_config", { setting: error.setting, error: error.message });
		return problem("misconfigured", `server misconfigured: ${error.forClients}`);
	}
	c.set("config", config);
	const path = c.req.path;
	const stats = ROOM_STATS_PATH.test(path);
	if (config.apiKey === null) {
		return stats ? next() : problem("notFound", "the HTTP API is off: the server has no API_KEY secret");
	}
	if (stats || path === OPENAPI_PATH) return next();
	if (!(await isApiKey(bearerOf(c.req.header("Authorization")), config.apiKey))) {
		return problem("unauthorized", "send Authorization: Bearer <API_KEY>", {
			headers: { "WWW-Authenticate": 'Bearer realm="edgechat"' },
		});
	}
	return next();
});

api.use(
	"/api/*",
	methodNotAllowed({
		app: api,
		onMethodNotAllowed: (c, methods) =>
			problem("methodNotAllowed", `${c.req.method} is not a method of ${c.req.path}`, {
				headers: { Allow: methods.join(", ") },
			}),
	}),
);

// Bodies are JSON of a few fields; the largest, a post, holds RICH_MESSAGE_CAP characters, which
// MAX_FRAME_BYTES is sized for however they are written in JSON (wrangler.toml).
api.use("/api/*", (c, next) => {
	const maxSize = c.get("config").maxFrameBytes;
	return bodyLimit({
		maxSize,
		onError: () => {
			throw new ApiProblem("tooLarge", `the body is over ${maxSize} bytes (MAX_FRAME_BYTES)`);
		},
	})(c, next);
});

// -- messages ------------------------------------------------------------------------------------

api.openapi(routes.postMessage, async (c) => {
	const { name: room } = c.req.valid("param");
	const body = c.req.valid("json");
	const errors: FieldError[] = [];
	const name = checkName(body.name);
	if (!name.ok) errors.push({ pointer: "#/name", detail: name.error.message });
	const text = checkText(body.text, { messageCap: c.get("config").richMessageCap });
	if (!text.ok) errors.push({ pointer: "#/text", detail: text.error.message });
	if (!name.ok || !text.ok) throw new ApiProblem("invalid", "the body is not valid", { errors });
	const outcome = await roomOf(c.env, room).post({
		room,
		name: name.name,
		text: text.text,
		clientId: body.clientId ?? null,
		replyTo: body.replyTo ?? null,
	});
	switch (outcome.kind) {
		case "stored":
		case "repeat":
			return c.json({ id: outcome.message.id, ts: outcome.message.ts }, outcome.kind === "stored" ? 201 : 200);
		case "no_reply_target":
			throw new ApiProblem("unprocessable", `no message ${body.replyTo} to reply to in room ${room}`, {
				errors: [{ pointer: "#/replyTo", detail: "is not a retained, undeleted message of this room" }],
			});
		case "unavailable":
			throw unavailable();
	}
});

api.openapi(routes.listMessages, async (c) => {
	const { name: room } = c.req.valid("param");
	const { before, after, limit } = c.req.valid("query");
	if (before !== undefined && after !== undefined && after >= before) {
		throw new ApiProblem("invalid", "the query is not valid", {
			errors: [{ parameter: "after", detail: "must be smaller than before" }],
		});
	}
	const page = await roomOf(c.env, room).messages({ before: before ?? null, after: after ?? null, limit });
	return c.json(page, 200);
});

api.openapi(routes.deleteMessage, async (c) => {
	const { name: room, id } = c.req.valid("param");
	const outcome = await roomOf(c.env, room).deleteMessage(room, id);
	if (outcome.kind === "not_found") throw new ApiProblem("notFound", `no message ${id} in room ${room}`);
	if (outcome.kind === "unavailable") throw unavailable();
	return c.body(null, 204);
});

// -- moderation ----------------------------------------------------------------------------------

/** Kicks and bans are of users, which only signed mode has. */
function requireSignedMode(c: Context<ApiEnv>): void {
	if (c.get("config").authSecret === null) {
		throw new ApiProblem("signedModeOnly", "kicks and bans need signed mode: users exist only with AUTH_SECRET set");
	}
}

api.openapi(routes.banUser, async (c) => {
	requireSignedMode(c);
	const { name: room, userId } = c.req.valid("param");
	const { seconds } = c.req.valid("json");
	const { until, refused } = await roomOf(c.env, room).remove(room, { kind: "ban", target: userId, seconds });
	if (refused !== undefined) throw new ApiProblem("tooManyBans", refused);
	if (until === undefined) throw new Error("the room answered a ban without its end");
	return c.json({ userId, until }, 200);
});

api.openapi(routes.unbanUser, async (c) => {
	requireSignedMode(c);
	const { name: room, userId } = c.req.valid("param");
	await roomOf(c.env, room).unban(userId);
	return c.body(null, 204);
});

api.openapi(routes.kickUser, async (c) => {
	requireSignedMode(c);
	const { name: room, userId } = c.req.valid("param");
	const { present } = await roomOf(c.env, room).remove(room, { kind: "kick", target: userId });
	return c.json({ userId, present }, 200);
});

// -- the room's settings ------------------------------------------------------------------------------

api.openapi(routes.getSettings, async (c) => {
	const { name: room } = c.req.valid("param");
	return c.json(await roomOf(c.env, room).settings(), 200);
});

api.openapi(routes.changeSettings, async (c) => {
	const { name: room } = c.req.valid("param");
	// The schema shaped the body; the one check of a change (src/wire/settings.ts) makes it a patch.
	const checked = checkSettingsPatch(c.req.valid("json"));
	if (!checked.ok) {
		throw new ApiProblem("invalid", "the body is not valid", {
			errors: [{ pointer: checked.field === "" ? "#" : `#/${checked.field}`, detail: checked.message }],
		});
	}
	return c.json(await roomOf(c.env, room).changeSettings(room, checked.patch), 200);
});

// -- the room ------------------------------------------------------------------------------------

api.openapi(routes.roomStats, async (c) => {
	const { name: room } = c.req.valid("param");
	const config = c.get("config");
	const keyed = config.apiKey !== null && (await isApiKey(bearerOf(c.req.header("Authorization")), config.apiKey));
	// Without the key anyone may ask (open mode): it reaches the room's object, so it is counted per address.
	if (!keyed && (await limitRoomRequest(c.req.raw, c.env, config))) {
		throw new ApiProblem("tooManyRequests", "too many requests from your address; try again in a minute", {
			headers: { "Retry-After": String(ROOM_REQUEST_LIMIT_PERIOD_SECONDS) },
		});
	}
	if (!keyed && config.authSecret !== null) {
		const check = await checkToken(c.req.raw, config.authSecret, room, config);
		if (!check.ok) throw new ApiProblem(check.status === 401 ? "unauthorized" : "forbidden", check.reason);
		if (check.identity.role !== "moderator") throw new ApiProblem("forbidden", "a room's size needs a moderator token");
	}
	return c.json(await roomOf(c.env, room).stats(), 200);
});

// -- webhooks that failed --------------------------------------------------------------------------

api.openapi(routes.listFailedWebhooks, async (c) => {
	const { name: room } = c.req.valid("param");
	const { failed, more, dropped } = await roomOf(c.env, room).failedWebhooks();
	const events = failed.map(({ webhookId, failedAt, body }) => ({
		webhookId,
		failedAt,
		event: JSON.parse(body) as WebhookBody,
	}));
	return c.json({ failed: events, more, dropped }, 200);
});

api.openapi(routes.retryFailedWebhooks, async (c) => {
	const { name: room } = c.req.valid("param");
	if (c.get("config").webhooks === null) throw new ApiProblem("webhooksOff", "no WEBHOOK_URL: nothing was sent");
	return c.json(await roomOf(c.env, room).retryFailedWebhooks(), 200);
});

// -- the document ----------------------------------------------------------------------------------

api.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
	type: "http",
	scheme: "bearer",
	description: "The API_KEY secret.",
});
api.openAPIRegistry.registerComponent("securitySchemes", "moderatorToken", {
	type: "http",
	scheme: "bearer",
	bearerFormat: "JWT",
	description: "Signed mode: a token for the room with the moderator role (for the room's size only).",
});
for (const type of WEBHOOK_EVENT_TYPES) {
	api.openAPIRegistry.registerWebhook({
		method: "post",
		path: type,
		summary: `The ${type} event`,
		description:
			"A Standard Webhooks request to WEBHOOK_URL (headers webhook-id, webhook-timestamp, webhook-signature); answer 2xx to acknowledge it.",
		request: { body: { content: { "application/json": { schema: WebhookBodySchema } } } },
		responses: { 200: { description: "Acknowledged (any 2xx)." } },
	});
}
api.doc31(OPENAPI_PATH, (c) => ({
	openapi: "3.1.0",
	info: {
		title: "edgechat HTTP API",
		version: "1",
		description: "The operator's API to an edgechat deployment, and the webhook events it sends (docs/api.md).",
	},
	servers: [{ url: new URL(c.req.url).origin }],
}));

// -- what matches nothing, and what fails ----------------------------------------------------------

api.notFound(() => problem("notFound", "no such API route"));

api.onError((error) => {
	if (error instanceof ApiProblem) return problem(error.kind, error.detail, error.options);
	if (error instanceof HTTPException) {
		// What Hono's validators throw before the schemas run.
		if (error.status === 415) return problem("unsupportedMediaType", "send the body as Content-Type: application/json");
		if (error.status === 400) return problem("badJson", "the body is not valid JSON");
		return error.getResponse();
	}
	// The room's object did not answer (reset mid-call, overloaded): nothing is known to be done.
	logEvent("api_failed", { error: String(error) });
	return problem("unavailable", "the room did not answer; retry (a post with the same clientId is stored once)", {
		headers: { "Retry-After": "1" },
	});
});

export default api;
