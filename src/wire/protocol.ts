/**
 * The rich protocol, `edgechat.v1`: every event that crosses the socket, as one set of types
 * shared by the Room (server) and the page (`public/*.js` imports these types through JSDoc and
 * `tsc` checks them), plus the parser that turns an untrusted text frame into a typed event.
 * Constant values both sides need (subprotocol, heartbeat, typing interval) come from
 * `public/contract.js`, which the page loads as it is.
 *
 * PROTOCOL.md documents every event and field with an example exchange; keep the two together.
 */

// The values the page shares with the server live in one module that both load.
export { PING, PING_INTERVAL_MS, PONG, SUBPROTOCOL, TYPING_INTERVAL_MS } from "../../public/contract.js";

import type { ROLES } from "../../public/contract.js";

/** The name plain-mode clients (no subprotocol) appear under in presence and history. */
export const PLAIN_NAME = "guest";

/** Longest display name, in code points. */
export const MAX_NAME_LENGTH = 32;
/** Longest client-generated message id, in characters. */
export const MAX_CLIENT_ID_LENGTH = 64;

// ---------------------------------------------------------------------------------------------
// Client -> server

/** First event on a rich connection: who I am and, when resuming, the last message id I saw. */
export interface HelloEvent {
	type: "hello";
	/** Display name: trimmed, 1 to 32 code points, no control, format or bidi characters. */
	name: string;
	/** Last message id this client has seen; the server replays everything after it. */
	since?: number;
}

/** A chat message. `clientId` makes it idempotent: a resend with the same id is stored once. */
export interface SendEvent {
	type: "send";
	/** Client-generated id (1 to 64 of `A-Z a-z 0-9 _ -`), echoed on the stored message. */
	clientId: string;
	/** The text: 1 to MESSAGE_CAP code points, not only whitespace. */
	text: string;
}

/** "I am typing." Ephemeral: never stored; throttled by the server. */
export interface TypingEvent {
	type: "typing";
}

/** Signed mode: the author replaces the text of message `id`. */
export interface EditCommand {
	type: "edit";
	id: number;
	/** The same rules as a `send`'s text. */
	text: string;
}

/** Signed mode: the author or a moderator removes message `id`. */
export interface DeleteCommand {
	type: "delete";
	id: number;
}

/** Signed mode: a moderator closes every connection of a user (4001). */
export interface KickCommand {
	type: "kick";
	userId: string;
}

/** Signed mode: a moderator closes every connection of a user (4003) and refuses it for `seconds`. */
export interface BanCommand {
	type: "ban";
	userId: string;
	seconds: number;
}

/** Every event a client may send. */
export type ClientEvent = HelloEvent | SendEvent | TypingEvent | EditCommand | DeleteCommand | KickCommand | BanCommand;

/** What a signed token lets its holder do (PROTOCOL.md, "Signed identity and moderation"). */
export type Role = (typeof ROLES)[number];

/** Longest user id (a token's `sub`), in characters. */
export const MAX_USER_ID_LENGTH = 128;
/** Longest ban, in seconds (a year). */
export const MAX_BAN_SECONDS = 31_536_000;

/**
 * The most names a `welcome` lists. A room spread over shards can hold 100,000 members: a welcome
 * listing them all would be megabytes per join, so past this it lists the first to arrive and
 * says how many there are (`memberCount`); joins and leaves keep the client's view current.
 */
export const WELCOME_MEMBERS = 100;

// ---------------------------------------------------------------------------------------------
// Server -> client

/** One stored chat message. */
export interface ChatMessage {
	/** Server-assigned, strictly increasing per room (1, 2, 3, ...). */
	id: number;
	/** The sender's own id for it; `null` for messages from plain clients. */
	clientId: string | null;
	/** Display name of the author (`guest` for plain clients). */
	name: string;
	text: string;
	/** When the room stored it, in milliseconds since the Unix epoch. */
	ts: number;
	/** Signed mode: the author's user id (the token's `sub`). */
	userId?: string;
}

/** Signed mode: message `target` was edited; an entry of the log with an id of its own. */
export interface EditEntry {
	id: number;
	kind: "edit";
	target: number;
	text: string;
	/** The author's name and user id. */
	name: string;
	userId: string;
	ts: number;
}

/** Signed mode: message `target` was deleted, by its author or a moderator (`name`, `userId`). */
export interface DeleteEntry {
	id: number;
	kind: "delete";
	target: number;
	name: string;
	userId: string;
	ts: number;
}

/** One entry of a room's log, in id order: a message, or an edit or delete of one. */
export type LogEntry = ChatMessage | EditEntry | DeleteEntry;

/** Answer to `hello`: the room as it is now. */
export interface WelcomeEvent {
	type: "welcome";
	/** The name the server accepted (trimmed and NFC-normalised). */
	name: string;
	/**
	 * Names present in the room (each once, however many connections), sorted: all of them, or,
	 * in a room of more than `WELCOME_MEMBERS` names, the first `WELCOME_MEMBERS` to arrive.
	 */
	members: string[];
	/** How many names are present (the length of `members` when it is not cut). */
	memberCount: number;
	/**
	 * Without `since`: the last HISTORY_REPLAY entries. With `since`: every retained entry after
	 * it, oldest first. Edits and deletes are entries too (signed mode).
	 */
	history: LogEntry[];
	/**
	 * True when some messages after `since` are no longer retained (or `since` is unknown to the
	 * room), so `history` does not close the gap.
	 */
	gap: boolean;
	/** Id of the newest message in the room (0 when there is none). */
	latestId: number;
	/** Longest text a `send` may carry, in code points (MESSAGE_CAP), so the client can say so before sending. */
	messageCap: number;
	/** Signed mode: who the token says this is, and what it may do. */
	userId?: string;
	role?: Role;
}

/** A new chat message, sent to everyone, the sender included. */
export interface MessageEvent extends ChatMessage {
	type: "message";
}

/** A name appeared in the room (its first connection; signed mode: its user's first). */
export interface JoinEvent {
	type: "join";
	name: string;
	/** Signed mode: the user's id. */
	userId?: string;
}

/** A name left the room (its last connection closed; signed mode: its user's last). */
export interface LeaveEvent {
	type: "leave";
	name: string;
	/** Signed mode: the user's id. */
	userId?: string;
}

/** Signed mode: a message was edited (the log entry, as an event). */
export type EditNotice = { type: "edit" } & Omit<EditEntry, "kind">;

/** Signed mode: a message was deleted (the log entry, as an event). */
export type DeleteNotice = { type: "delete" } & Omit<DeleteEntry, "kind">;

/** Signed mode: a moderator (`by`) kicked a user, or banned it `until` a time (ms since the epoch). */
export interface RemovedEvent {
	type: "removed";
	userId: string;
	/** The user's name, when the room knew it (it was connected). */
	name?: string;
	by: string;
	until?: number;
}

/** Someone is typing (sent to everyone else). Clear it on their next message or after 5 s. */
export interface TypingNotice {
	type: "typing";
	name: string;
}

/** Every error code, each documented in PROTOCOL.md. */
export type ErrorCode =
	| "bad_json"
	| "bad_event"
	| "unknown_type"
	| "bad_name"
	| "bad_text"
	| "text_too_long"
	| "binary_unsupported"
	| "not_joined"
	| "already_joined"
	| "rate_limited"
	| "server_error"
	| "forbidden"
	| "not_found";

/** Something the client sent was refused. The connection stays open and usable. */
export interface ErrorEvent {
	type: "error";
	code: ErrorCode;
	/** One line for humans. */
	message: string;
	/** The `clientId` of the refused `send`, when there was one. */
	clientId?: string;
	/** With `rate_limited`: how long to wait before the next message will be accepted, in ms. */
	retryAfterMs?: number;
}

/** Several events in one frame, to be handled in order. */
export interface BatchEvent {
	type: "batch";
	events: SingleServerEvent[];
}

/** Every event the server sends, other than a batch. */
export type SingleServerEvent =
	| WelcomeEvent
	| MessageEvent
	| JoinEvent
	| LeaveEvent
	| TypingNotice
	| ErrorEvent
	| EditNotice
	| DeleteNotice
	| RemovedEvent;
/** Every event the server sends. */
export type ServerEvent = SingleServerEvent | BatchEvent;
