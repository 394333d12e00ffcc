/**
 * The rich protocol, `edgechat.v1`: every event that crosses the socket, as one set of types
 * shared by the Room (server) and the page (`public/*.js` imports these types through JSDoc and
 * `tsc` checks them), plus the parser that turns an untrusted text frame into a typed event.
 * Beside it, each in a module of its own: the entries of a room's log (./log-entries.ts), the
 * presence events (./presence.ts), a room's settings (./settings.ts), the protocol's fixed limits
 * (./limits.ts), and the values the page loads as they are (subprotocol, heartbeat, typing
 * interval: `public/contract.js`).
 *
 * PROTOCOL.md documents every event and field with an example exchange; keep the two together.
 */

import type { ROLES } from "../../public/contract.js";
import type { ChatMessage, DeleteEntry, EditEntry, LogEntry, ReactionsEntry } from "./log-entries.ts";
import type { JoinEvent, LeaveEvent, PresenceEvent, PresentMember } from "./presence.ts";
import type { RoomSettings, SettingsCommand, SettingsEvent } from "./settings.ts";

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
	/** The text: 1 to RICH_MESSAGE_CAP code points, not only whitespace; line breaks are kept. */
	text: string;
	/** The id of a retained message this one answers (shown as a quote). */
	replyTo?: number;
}

/**
 * A page of the room's log. `before`: the `limit` messages just before that id, as they stand
 * now (scroll-back). `after`: the `limit` log entries just after it, as they were written
 * (catching up after a welcome that said `more`). Exactly one of the two.
 */
export interface HistoryRequest {
	type: "history";
	before?: number;
	after?: number;
	/** 1 to `HISTORY_PAGE_MAX`; `HISTORY_PAGE_DEFAULT` when absent. */
	limit?: number;
}

/** Adds (`on: true`) or takes back (`on: false`) this member's reaction `emoji` to message `id`. */
export interface ReactCommand {
	type: "react";
	id: number;
	/** One emoji of Unicode's RGI list (👍, ❤️, 👩🏽‍💻, 🇫🇷, ...). */
	emoji: string;
	on: boolean;
}

/**
 * Who reacted to message `id` with `emoji`: the members a message's reactions do not list (they
 * list the first few, within a byte budget), a page of `REACTORS_PAGE` at a time from `offset`.
 */
export interface ReactorsRequest {
	type: "reactors";
	id: number;
	/** One emoji of Unicode's RGI list. */
	emoji: string;
	/** How many reactors to skip (0 when absent), in the order they reacted. */
	offset?: number;
}

/** Signed mode: this user has read the room up to log id `id` (kept by the room, per user). */
export interface ReadCommand {
	type: "read";
	id: number;
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
export type ClientEvent =
	| HelloEvent
	| SendEvent
	| TypingEvent
	| EditCommand
	| DeleteCommand
	| KickCommand
	| BanCommand
	| HistoryRequest
	| ReactCommand
	| ReactorsRequest
	| ReadCommand
	| SettingsCommand;

/** What a signed token lets its holder do (PROTOCOL.md, "Signed identity and moderation"). */
export type Role = (typeof ROLES)[number];

// ---------------------------------------------------------------------------------------------
// Server -> client

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
	/**
	 * This connection's message allowance (flood control, `RATE_LIMIT_*`), so a client can pace
	 * itself instead of being refused: `bucket` frames at once, then `messages` per
	 * `windowSeconds`. Absent when flood control is off.
	 */
	allowance?: Allowance;
	/** Signed mode: who the token says this is, and what it may do. */
	userId?: string;
	role?: Role;
	/**
	 * Resuming: more entries follow `history` up to `latestId` than a welcome carries (at most the
	 * larger of HISTORY_REPLAY and `HISTORY_PAGE_MAX`); fetch them with `history` `after`.
	 */
	more?: boolean;
	/** Signed mode: the log id this user last said it has read (`read`), on any device; 0 if never. */
	readUpTo?: number;
	/** The room's settings as they stood when it said hello (later changes come as `settings`). */
	settings: RoomSettings;
}

/**
 * A connection's message allowance: a token bucket of `bucket` tokens refilled at `messages` per
 * `windowSeconds`, one token per frame that is not `hello`, `typing`, `read`, `history` or
 * `reactors` (PROTOCOL.md, "Flood control").
 */
export interface Allowance {
	messages: number;
	windowSeconds: number;
	bucket: number;
}

/** A new chat message, sent to everyone, the sender included. */
export interface MessageEvent extends ChatMessage {
	type: "message";
}

/** Signed mode: a message was edited (the log entry, as an event). */
export type EditNotice = { type: "edit" } & Omit<EditEntry, "kind">;

/** Signed mode: a message was deleted (the log entry, as an event). */
export type DeleteNotice = { type: "delete" } & Omit<DeleteEntry, "kind">;

/** Message `target`'s reactions now (the log entry, as an event). */
export type ReactionsNotice = { type: "reactions" } & Omit<ReactionsEntry, "kind">;

/** The answer to a `history` request: the page, and whether there is more beyond it. */
export interface HistoryEvent {
	type: "history";
	/** What was asked (one of the two), so a client can match the answer. */
	before?: number;
	after?: number;
	/**
	 * Oldest first. `before`: messages only, each as it stands now (`edited`, `deleted`,
	 * `reactions`). `after`: every log entry, as written (messages as they stand now too).
	 */
	entries: LogEntry[];
	/** Whether older (`before`) or newer (`after`) entries exist beyond this page. */
	more: boolean;
	/** `after` only: some entries right after `after` are no longer retained. */
	gap?: boolean;
	/**
	 * The request was over the connection's pace for history (`HISTORY_BUCKET`,
	 * `HISTORY_PER_SECOND`): `entries` is empty; ask again after this many milliseconds.
	 */
	retryAfterMs?: number;
}

/** The answer to a `reactors` request: a page of who reacted, in the order they did. */
export interface ReactorsEvent {
	type: "reactors";
	id: number;
	emoji: string;
	offset: number;
	/** Who reacted (signed mode: with their user ids), from `offset`, at most `REACTORS_PAGE`. */
	reactors: PresentMember[];
	/** Whether more reacted after these. */
	more: boolean;
	/** Over the connection's pace of pages (the same as history's): none now, ask again after this many ms. */
	retryAfterMs?: number;
}

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
	| "not_found"
	| "bad_emoji"
	| "too_many_reactions"
	| "too_many_bans"
	| "slow_mode"
	| "posting_restricted";

/** Something the client sent was refused. The connection stays open and usable. */
export interface ErrorEvent {
	type: "error";
	code: ErrorCode;
	/** One line for humans. */
	message: string;
	/** The `clientId` of the refused `send`, when there was one. */
	clientId?: string;
	/** With `rate_limited` and `slow_mode`: how long to wait before the next message will be accepted, in ms. */
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
	| PresenceEvent
	| TypingNotice
	| ErrorEvent
	| EditNotice
	| DeleteNotice
	| ReactionsNotice
	| HistoryEvent
	| ReactorsEvent
	| RemovedEvent
	| SettingsEvent;
/** Every event the server sends. */
export type ServerEvent = SingleServerEvent | BatchEvent;
