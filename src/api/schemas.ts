/**
 * The HTTP API's shapes, as zod schemas: the one description the Worker validates requests with
 * and `/api/openapi.json` is generated from (src/api/routes.ts), so the document cannot drift
 * from what the code accepts. The rules that depend on settings (a text's cap, RICH_MESSAGE_CAP)
 * or on Unicode (a display name) are checked after these, by the same functions a socket's
 * events go through (src/wire/parse.ts), and reported the same way.
 */
import { z } from "@hono/zod-openapi";
import { MAX_ROOM_NAME_LENGTH, ROOM_NAME_CHARACTERS } from "../../public/contract.js";
import {
	HISTORY_PAGE_DEFAULT,
	HISTORY_PAGE_MAX,
	MAX_BAN_SECONDS,
	MAX_CLIENT_ID_LENGTH,
	MAX_NAME_LENGTH,
	MAX_RETENTION_DAYS,
	MAX_SLOW_MODE_SECONDS,
	MAX_USER_ID_LENGTH,
} from "../wire/limits.ts";
import type { ChatMessage } from "../wire/log-entries.ts";
import { CLIENT_ID_PATTERN } from "../wire/parse.ts";
import type { RoomStats } from "../wire/rpc.ts";
import { POSTING_ROLES, type RoomSettings } from "../wire/settings.ts";

/** A log id in a path or a query: an integer from 1 (`from` 0 where "before everything" makes sense). */
function logId(from: 0 | 1) {
	return z.coerce.number().int().min(from).max(Number.MAX_SAFE_INTEGER).openapi({ type: "integer", minimum: from });
}

// -- path parameters ---------------------------------------------------------------------------

/** `{name}`: a room. */
export const RoomParam = z.object({
	name: z
		.string()
		.min(1)
		.max(MAX_ROOM_NAME_LENGTH)
		.regex(ROOM_NAME_CHARACTERS)
		.openapi({ param: { name: "name", in: "path" }, example: "lobby", description: "The room's name." }),
});

/** `{name}` and `{id}`: a message of a room. */
export const MessageParam = RoomParam.extend({
	id: logId(1).openapi({ param: { name: "id", in: "path" }, example: 42, description: "The message's log id." }),
});

/** `{name}` and `{userId}`: a user of a room (signed mode: a token's `sub`). */
export const UserParam = RoomParam.extend({
	userId: z
		.string()
		.min(1)
		.max(MAX_USER_ID_LENGTH)
		.openapi({
			param: { name: "userId", in: "path" },
			example: "u-1842",
			description: "The user's id (a token's `sub`).",
		}),
});

// -- request bodies and queries ----------------------------------------------------------------

/** `POST /api/rooms/{name}/messages`. */
export const PostMessageBody = z
	.object({
		name: z.string().openapi({
			description: `The name it is shown under: 1 to ${MAX_NAME_LENGTH} characters, no control or invisible characters.`,
			example: "Announcements",
		}),
		text: z.string().openapi({
			description:
				"1 to RICH_MESSAGE_CAP characters (code points), not only whitespace, no bidi embeddings, overrides or isolates (U+202A–U+202E, U+2066–U+2069); line breaks are kept.",
			example: "The room closes at 18:00 today.",
		}),
		clientId: z.string().min(1).max(MAX_CLIENT_ID_LENGTH).regex(CLIENT_ID_PATTERN).optional().openapi({
			description:
				"Makes the post idempotent: the same clientId again answers the stored message, never a second one. It is the API's own: a client's message with the same clientId is another sender's.",
			example: "announce-2026-12-05",
		}),
		replyTo: z
			.number()
			.int()
			.min(1)
			.optional()
			.openapi({ description: "The log id of a retained message this one answers.", example: 41 }),
	})
	.strict()
	.openapi("PostMessage");

/** `GET /api/rooms/{name}/messages`. */
export const MessagesQuery = z.object({
	before: logId(1)
		.optional()
		.openapi({ param: { name: "before", in: "query" }, description: "Only messages with a smaller id." }),
	after: logId(0)
		.optional()
		.openapi({
			param: { name: "after", in: "query" },
			description: "Only messages with a larger id (0: from the start).",
		}),
	limit: z.coerce
		.number()
		.int()
		.min(1)
		.max(HISTORY_PAGE_MAX)
		.default(HISTORY_PAGE_DEFAULT)
		.openapi({ param: { name: "limit", in: "query" }, description: "Messages per page." }),
});

/** `PUT /api/rooms/{name}/bans/{userId}`. */
export const BanBody = z
	.object({
		seconds: z
			.number()
			.int()
			.min(1)
			.max(MAX_BAN_SECONDS)
			.openapi({ description: "How long the ban lasts.", example: 3600 }),
	})
	.strict()
	.openapi("Ban");

/** `PATCH /api/rooms/{name}/settings`: the settings to change (src/wire/settings.ts checks them). */
export const SettingsPatchBody = z
	.object({
		slowModeSeconds: z.number().int().min(0).max(MAX_SLOW_MODE_SECONDS).optional().openapi({
			description: "Seconds a member waits between two messages; moderators and this API are exempt. 0: off.",
			example: 30,
		}),
		postingRole: z.enum(POSTING_ROLES).optional().openapi({
			description: "Who may post: `everyone`, or `moderators` (an announcement room; this API always may).",
		}),
		retentionDays: z.number().int().min(0).max(MAX_RETENTION_DAYS).optional().openapi({
			description: "Days a message is kept (it leaves within the hour after); 0: no limit by age.",
			example: 30,
		}),
	})
	.strict()
	.refine((patch) => Object.keys(patch).length > 0, { message: "name at least one setting" })
	.openapi("SettingsPatch");

// -- responses ---------------------------------------------------------------------------------

/** A room's settings, as they stand. */
export const RoomSettingsSchema = z
	.object({
		slowModeSeconds: z.number().int().min(0),
		postingRole: z.enum(POSTING_ROLES),
		retentionDays: z.number().int().min(0),
	})
	.strict()
	.openapi("RoomSettings");

/** One emoji's reactions on a message. */
const ReactionSchema = z.object({
	emoji: z.string(),
	count: z.number().int().min(1),
	names: z.array(z.string()),
	userIds: z.array(z.string()).optional(),
});

/** A message, as it stands now (PROTOCOL.md, "A message as it stands now"). */
export const MessageSchema = z
	.object({
		id: z.number().int().min(1),
		clientId: z.string().nullable(),
		name: z.string(),
		text: z.string(),
		ts: z.number().int().openapi({ description: "When the room stored it, ms since the Unix epoch." }),
		userId: z.string().optional(),
		replyTo: z
			.object({ id: z.number().int(), name: z.string(), userId: z.string().optional(), excerpt: z.string() })
			.optional(),
		mentions: z.array(z.string()).optional(),
		edited: z.literal(true).optional(),
		deleted: z.literal(true).optional(),
		reactions: z.array(ReactionSchema).optional(),
		api: z.literal(true).optional().openapi({ description: "Posted through this API." }),
	})
	.strict()
	.openapi("Message");

/** `201` / `200` to a post: the stored message's id and time. */
export const PostedSchema = z
	.object({ id: z.number().int().min(1), ts: z.number().int() })
	.strict()
	.openapi("Posted");

/** A page of messages. */
export const MessagePageSchema = z
	.object({
		messages: z.array(MessageSchema).openapi({ description: "Oldest first." }),
		more: z.boolean().openapi({
			description:
				"Whether messages beyond this page match: older ones when only `before` was given (or neither), else newer ones.",
		}),
	})
	.strict()
	.openapi("MessagePage");

/** A ban, as stored. */
export const BannedSchema = z
	.object({ userId: z.string(), until: z.number().int().openapi({ description: "ms since the Unix epoch" }) })
	.strict()
	.openapi("Banned");

/** A kick: whether the user had connections to close. */
export const KickedSchema = z
	.object({
		userId: z.string(),
		present: z
			.boolean()
			.openapi({ description: "Whether the user was in the room (its connections are being closed)." }),
	})
	.strict()
	.openapi("Kicked");

/** A room's size. */
export const RoomStatsSchema = z
	.object({
		connections: z.number().int().min(0),
		members: z.number().int().min(0),
		latestId: z.number().int().min(0),
		shards: z.array(z.object({ connections: z.number().int().min(0) }).strict()),
	})
	.strict()
	.openapi("RoomStats");

/** RFC 9457 problem details: every error this API answers. */
export const ProblemSchema = z
	.object({
		type: z.string().openapi({ description: "A URI naming the kind of problem (docs/api.md lists them)." }),
		title: z.string(),
		status: z.number().int(),
		detail: z.string().optional(),
		errors: z
			.array(
				z
					.object({
						detail: z.string(),
						pointer: z.string().optional().openapi({ description: "The body field, as a JSON Pointer (`#/text`)." }),
						parameter: z.string().optional().openapi({ description: "The path or query parameter." }),
					})
					.strict(),
			)
			.optional()
			.openapi({ description: "Each invalid field, named." }),
	})
	.strict()
	.openapi("Problem");

// The schemas describe exactly the room's types (checked at compile time): every value of the type
// fits the schema, and the schema names no field the type does not have (zod's inferred optional
// fields also admit `undefined`, which the room never sends, so the check is not both ways).
export type Describes<Schema, T> = [T] extends [Schema] ? (KeysOf<Schema> extends KeysOf<T> ? true : false) : false;
type KeysOf<T> = T extends unknown ? keyof T : never;
true satisfies Describes<z.infer<typeof MessageSchema>, ChatMessage>;
true satisfies Describes<z.infer<typeof RoomStatsSchema>, RoomStats>;
true satisfies Describes<z.infer<typeof RoomSettingsSchema>, RoomSettings>;
