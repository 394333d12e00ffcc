/**
 * What crosses between the Worker's HTTP API (src/api/) and a room's object when the operator's
 * backend acts on the room: the requests, already checked by the Worker, and the outcomes the
 * room answers once the burst they joined has been committed. Plain data, so it crosses Durable
 * Object RPC unchanged. The room's methods that take them are `Room.post`, `Room.messages`,
 * `Room.deleteMessage`, `Room.remove` and `Room.unban` (src/room/room.ts).
 */
import type { ChatMessage } from "./log-entries.ts";

/** Where the HTTP API serves its OpenAPI document (no API key needed to read it). */
export const OPENAPI_PATH = "/api/openapi.json";

/** The name under which the API's own actions show: who deleted, who kicked or banned. */
export const OPERATOR_NAME = "API";

/** A message for the room to store and deliver, marked as sent through the API. */
export interface OperatorPost {
	/** Its room (the room learns its name from every call, for the events it sends). */
	readonly room: string;
	/** Checked like a `hello`'s name (src/wire/parse.ts `checkName`), except that the operator's own name `API` is allowed. */
	readonly name: string;
	/** Checked like a `send`'s text. */
	readonly text: string;
	readonly clientId: string | null;
	readonly replyTo: number | null;
}

/**
 * What a post came to:
 * - `stored`: a new message, delivered to everyone;
 * - `repeat`: its `clientId` was stored before: that message, untouched (nothing new delivered);
 * - `no_reply_target`: `replyTo` is not a retained, undeleted message of the room;
 * - `unavailable`: the room could not store it (a storage failure); nothing was stored.
 */
export type PostOutcome =
	| { readonly kind: "stored" | "repeat"; readonly message: ChatMessage }
	| { readonly kind: "no_reply_target" | "unavailable" };

/** A page of a room's messages: `after` < id < `before` (either may be `null`: no bound). */
export interface MessagesQuery {
	readonly before: number | null;
	readonly after: number | null;
	readonly limit: number;
}

/**
 * The messages of one page, oldest first, each as it stands now. `more`: messages beyond the
 * page match the query (older ones when the page was read backwards, from `before` or from the
 * newest; newer ones when it was read forwards from `after`).
 */
export interface MessagePage {
	readonly messages: ChatMessage[];
	readonly more: boolean;
}

/**
 * What a delete came to: `deleted` now, `already` deleted before (nothing new in the log), `not_found`
 * (no such message retained), or `unavailable` (storage failed; nothing was done).
 */
export type DeleteOutcome = { readonly kind: "deleted" | "already" | "not_found" | "unavailable" };

/** A kick or a ban by the API (signed mode) of user `target`. */
export type OperatorRemoval =
	| { readonly kind: "kick"; readonly target: string }
	| { readonly kind: "ban"; readonly target: string; readonly seconds: number };

/**
 * What a kick or ban came to: whether the user was in the room, and a ban's end (ms since the
 * epoch); or, for a ban the room refused (it keeps its most bans already), why (`refused`).
 */
export interface RemovalOutcome {
	readonly present: boolean;
	readonly until?: number;
	readonly refused?: string;
}
