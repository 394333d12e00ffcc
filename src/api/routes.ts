/**
 * The HTTP API's routes, declared once (`createRoute`): the Worker registers its handlers on them
 * (src/api/app.ts) and `/api/openapi.json` describes them, with the schemas of src/api/schemas.ts.
 * Every route but the room's size needs `Authorization: Bearer <API_KEY>`.
 */
import { createRoute, type z } from "@hono/zod-openapi";
import { MAX_BANS } from "../room/bans.ts";
import { FAILED_PAGE, MAX_FAILED } from "../room/failed-webhooks.ts";
import {
	BanBody,
	BannedSchema,
	KickedSchema,
	MessagePageSchema,
	MessageParam,
	MessagesQuery,
	PostedSchema,
	PostMessageBody,
	ProblemSchema,
	RoomParam,
	RoomSettingsSchema,
	RoomStatsSchema,
	SettingsPatchBody,
	UserParam,
} from "./schemas.ts";
import { FailedWebhooksSchema, RequeuedSchema } from "./webhook-schemas.ts";

/** A JSON body of `schema`. */
function json<T extends z.ZodType>(schema: T, description: string) {
	return { description, content: { "application/json": { schema } } };
}

/** Problem details, for the statuses a route can answer with them. */
function problems(...statuses: number[]) {
	const descriptions: Record<number, string> = {
		400: "A parameter or the body is not valid (`errors` names each field), or the body is not JSON.",
		401: "No API key, or a wrong one.",
		403: "Without the API key in signed mode: a token that is not a moderator's for this room.",
		404: "The API is off (no API_KEY), or no such route or message.",
		409: "Needs signed mode (AUTH_SECRET): only signed mode has users.",
		413: "The body is larger than MAX_FRAME_BYTES.",
		415: "The body is not application/json.",
		422: "`replyTo` is not a retained message of the room.",
		429: "Without the API key: too many requests that reach a room from this address (ROOM_REQUEST_LIMIT); retry after `Retry-After`.",
		503: "The room could not store it; nothing was stored. Retry (with the same clientId).",
	};
	return Object.fromEntries(statuses.map((status) => [status, problemAnswer(descriptions[status] ?? "")]));
}

/** Problem details of one status, described as it is meant on one route. */
function problemAnswer(description: string) {
	return { description, content: { "application/problem+json": { schema: ProblemSchema } } };
}

/** The security every route but the room's size has. */
const KEYED = [{ apiKey: [] }];

/** `POST /api/rooms/{name}/messages` */
export const postMessage = createRoute({
	method: "post",
	path: "/api/rooms/{name}/messages",
	summary: "Post a message",
	description:
		"Stored and delivered to everyone in the room like a client's message, marked `api: true`. With a `clientId`, a retry is safe: the same `clientId` again answers the stored message (200), never a second one.",
	security: KEYED,
	request: {
		params: RoomParam,
		body: { required: true, content: { "application/json": { schema: PostMessageBody } } },
	},
	responses: {
		201: json(PostedSchema, "Stored and delivered."),
		200: json(PostedSchema, "A message with this clientId was stored before: that one."),
		...problems(400, 401, 404, 413, 415, 422, 503),
	},
});

/** `GET /api/rooms/{name}/messages` */
export const listMessages = createRoute({
	method: "get",
	path: "/api/rooms/{name}/messages",
	summary: "Read a page of messages",
	description:
		"Messages with `after` < id < `before`, each as it stands now (edited, deleted, its reactions). With `after`, the page starts just after it and `more` says whether newer ones match (export: follow `after` with the last id). Without it, the page is the newest that match and `more` says whether older ones do (scroll back with `before`).",
	security: KEYED,
	request: { params: RoomParam, query: MessagesQuery },
	responses: { 200: json(MessagePageSchema, "A page of messages, oldest first."), ...problems(400, 401, 404) },
});

/** `DELETE /api/rooms/{name}/messages/{id}` */
export const deleteMessage = createRoute({
	method: "delete",
	path: "/api/rooms/{name}/messages/{id}",
	summary: "Delete a message",
	description:
		"Empties the message for everyone (it reads “message deleted”), as a moderator's delete does; a message already deleted answers 204 again.",
	security: KEYED,
	request: { params: MessageParam },
	responses: { 204: { description: "Deleted (now or before)." }, ...problems(400, 401, 404, 503) },
});

/** `PUT /api/rooms/{name}/bans/{userId}` */
export const banUser = createRoute({
	method: "put",
	path: "/api/rooms/{name}/bans/{userId}",
	summary: "Ban a user",
	description: `Closes every connection of the user (4003) and refuses its next ones until the ban ends; a ban already in place is replaced. A room keeps at most ${MAX_BANS} bans in force: one more is refused (409, \`too-many-bans\`) until one is lifted or ends.`,
	security: KEYED,
	request: {
		params: UserParam,
		body: { required: true, content: { "application/json": { schema: BanBody } } },
	},
	responses: {
		200: json(BannedSchema, "Banned."),
		...problems(400, 401, 404, 413, 415),
		409: problemAnswer(
			`Needs signed mode (AUTH_SECRET); or the room keeps ${MAX_BANS} bans in force already (\`too-many-bans\`): nobody was banned.`,
		),
	},
});

/** `DELETE /api/rooms/{name}/bans/{userId}` */
export const unbanUser = createRoute({
	method: "delete",
	path: "/api/rooms/{name}/bans/{userId}",
	summary: "Lift a ban",
	security: KEYED,
	request: { params: UserParam },
	responses: { 204: { description: "The user is not banned (any more)." }, ...problems(400, 401, 404, 409) },
});

/** `POST /api/rooms/{name}/kicks/{userId}` */
export const kickUser = createRoute({
	method: "post",
	path: "/api/rooms/{name}/kicks/{userId}",
	summary: "Kick a user",
	description: "Closes every connection of the user (4001); it may come back.",
	security: KEYED,
	request: { params: UserParam },
	responses: { 200: json(KickedSchema, "Kicked."), ...problems(400, 401, 404, 409) },
});

/** `GET /api/rooms/{name}` */
export const roomStats = createRoute({
	method: "get",
	path: "/api/rooms/{name}",
	summary: "A room's size",
	description:
		"Connections in all the room's objects, names present, the newest message id, and connections per object. Also answered without the API key: to anyone in open mode, to a moderator's token for the room in signed mode.",
	security: [...KEYED, { moderatorToken: [] }, {}],
	request: { params: RoomParam },
	responses: { 200: json(RoomStatsSchema, "The room's size."), ...problems(400, 401, 403, 429) },
});

/** `GET /api/rooms/{name}/settings` */
export const getSettings = createRoute({
	method: "get",
	path: "/api/rooms/{name}/settings",
	summary: "A room's settings",
	description: 'Slow mode, who may post, and how long messages are kept (PROTOCOL.md, "Room settings").',
	security: KEYED,
	request: { params: RoomParam },
	responses: { 200: json(RoomSettingsSchema, "The settings as they stand."), ...problems(400, 401, 404) },
});

/** `PATCH /api/rooms/{name}/settings` */
export const changeSettings = createRoute({
	method: "patch",
	path: "/api/rooms/{name}/settings",
	summary: "Change a room's settings",
	description:
		"Changes the settings named in the body, the others stay; every member is told (a `settings` event by `API`), in open mode too.",
	security: KEYED,
	request: {
		params: RoomParam,
		body: { required: true, content: { "application/json": { schema: SettingsPatchBody } } },
	},
	responses: {
		200: json(RoomSettingsSchema, "The settings as they stand now."),
		...problems(400, 401, 404, 413, 415, 503),
	},
});

/** `GET /api/rooms/{name}/webhooks/failed` */
export const listFailedWebhooks = createRoute({
	method: "get",
	path: "/api/rooms/{name}/webhooks/failed",
	summary: "Webhook events that were never delivered",
	description: `Events of this room the receiver did not take in all the attempts the queue makes (they went to the dead-letter queue), the oldest ${FAILED_PAGE} first. A room keeps at most ${MAX_FAILED}; past that the oldest are dropped, and \`dropped\` counts them.`,
	security: KEYED,
	request: { params: RoomParam },
	responses: { 200: json(FailedWebhooksSchema, "The failed events."), ...problems(400, 401, 404) },
});

/** `POST /api/rooms/{name}/webhooks/failed/retry` */
export const retryFailedWebhooks = createRoute({
	method: "post",
	path: "/api/rooms/{name}/webhooks/failed/retry",
	summary: "Send the failed webhook events again",
	description: `The oldest ${FAILED_PAGE} failed events of the room (the page the listing shows) go back to the queue, each with its own webhook-id, for a new round of attempts; \`more\` says whether others wait (retry again for each page).`,
	security: KEYED,
	request: { params: RoomParam },
	responses: {
		200: json(RequeuedSchema, "How many went back, and whether more wait."),
		...problems(400, 401, 404),
		409: problemAnswer("Webhooks are off (no WEBHOOK_URL): nothing was sent, the events stay kept."),
	},
});
