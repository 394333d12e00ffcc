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
export { PING, PING_INTERVAL_MS, PONG, SUBPROTOCOL, TYPING_INTERVAL_MS } from "../public/contract.js";

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

/** Every event a client may send. */
export type ClientEvent = HelloEvent | SendEvent | TypingEvent;

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
}

/** Answer to `hello`: the room as it is now. */
export interface WelcomeEvent {
	type: "welcome";
	/** The name the server accepted (trimmed and NFC-normalised). */
	name: string;
	/** Names present in the room (each once, however many connections), sorted. */
	members: string[];
	/**
	 * Without `since`: the last HISTORY_REPLAY messages. With `since`: every retained message
	 * after it, oldest first.
	 */
	history: ChatMessage[];
	/**
	 * True when some messages after `since` are no longer retained (or `since` is unknown to the
	 * room), so `history` does not close the gap.
	 */
	gap: boolean;
	/** Id of the newest message in the room (0 when there is none). */
	latestId: number;
	/** Longest text a `send` may carry, in code points (MESSAGE_CAP), so the client can say so before sending. */
	messageCap: number;
}

/** A new chat message, sent to everyone, the sender included. */
export interface MessageEvent extends ChatMessage {
	type: "message";
}

/** A name appeared in the room (its first connection). */
export interface JoinEvent {
	type: "join";
	name: string;
}

/** A name left the room (its last connection closed). */
export interface LeaveEvent {
	type: "leave";
	name: string;
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
	| "server_error";

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
export type SingleServerEvent = WelcomeEvent | MessageEvent | JoinEvent | LeaveEvent | TypingNotice | ErrorEvent;
/** Every event the server sends. */
export type ServerEvent = SingleServerEvent | BatchEvent;

// ---------------------------------------------------------------------------------------------
// Parsing untrusted input

/** The outcome of parsing a frame: an event, or the error event to answer with. */
export type ParseResult = { ok: true; event: ClientEvent } | { ok: false; error: ErrorEvent };

/** Limits the parser checks that depend on settings. */
export interface ParseLimits {
	/** Longest text, in code points (MESSAGE_CAP). */
	messageCap: number;
}

function refuse(code: ErrorCode, message: string, clientId?: string): { ok: false; error: ErrorEvent } {
	const error: ErrorEvent = { type: "error", code, message };
	if (clientId !== undefined) error.clientId = clientId;
	return { ok: false, error };
}

/** Counts code points (a surrogate pair is one; a lone surrogate is one). */
export function codePointLength(text: string): number {
	let count = 0;
	for (const _ of text) count++;
	return count;
}

const CLIENT_ID = /^[A-Za-z0-9_-]+$/;
/** Control characters (C0, DEL, C1). */
const CONTROL = /\p{Cc}/u;
/** Format characters (bidi overrides and isolates, zero-width space/joiners, BOM, ...) and line/paragraph separators. */
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}]/u;
/**
 * Every emoji Unicode recommends for general interchange (RGI): single emoji and the keycap,
 * flag, tag, skin-tone and ZWJ sequences (👩🏽‍💻, 🫱🏻‍🫲🏿, 🏴󠁧󠁢󠁳󠁣󠁴󠁿), the longest match first. Unicode's
 * own list, so a joiner or tag character is allowed exactly where it belongs to an emoji and
 * nowhere else. V8 has the `v` flag since 11.2; test/workerd/names.test.ts checks it in workerd.
 */
// biome-ignore lint/complexity/useRegexLiterals: tsc refuses the ES2024 `v` flag in a literal while the build targets ES2023.
const RGI_EMOJI = new RegExp("\\p{RGI_Emoji}", "gv");

/**
 * Checks and normalises a display name: NFC, trimmed, 1 to 32 code points, no control
 * characters, no format characters (bidi overrides, zero-width tricks) except inside an RGI emoji
 * sequence (its joiners and tag characters), no lone surrogates.
 */
export function checkName(raw: unknown): { ok: true; name: string } | { ok: false; error: ErrorEvent } {
	if (typeof raw !== "string") return refuse("bad_name", "name must be a string");
	if (!raw.isWellFormed()) return refuse("bad_name", "name contains a lone surrogate");
	const name = raw.normalize("NFC").trim();
	if (name.length === 0) return refuse("bad_name", "name is empty");
	if (codePointLength(name) > MAX_NAME_LENGTH) {
		return refuse("bad_name", `name is longer than ${MAX_NAME_LENGTH} characters`);
	}
	if (CONTROL.test(name)) return refuse("bad_name", "name contains control characters");
	if (INVISIBLE.test(name.replace(RGI_EMOJI, ""))) {
		return refuse("bad_name", "name contains invisible or direction-changing characters");
	}
	return { ok: true, name };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parses one text frame from a rich client. Never throws: anything malformed becomes the
 * error event to send back, and nothing of it reaches other clients or storage.
 */
export function parseClientEvent(frame: string, limits: ParseLimits): ParseResult {
	let value: unknown;
	try {
		value = JSON.parse(frame);
	} catch {
		return refuse("bad_json", "frame is not valid JSON");
	}
	if (!isPlainObject(value)) return refuse("bad_event", "event must be a JSON object");
	const type = value.type;
	if (typeof type !== "string") return refuse("bad_event", "event needs a string 'type'");

	switch (type) {
		case "hello": {
			const name = checkName(value.name);
			if (!name.ok) return name;
			const since = value.since;
			if (since === undefined || since === null) return { ok: true, event: { type, name: name.name } };
			if (typeof since !== "number" || !Number.isSafeInteger(since) || since < 0) {
				return refuse("bad_event", "'since' must be a non-negative integer message id");
			}
			return { ok: true, event: { type, name: name.name, since } };
		}
		case "send": {
			const clientId = value.clientId;
			if (typeof clientId !== "string" || clientId.length > MAX_CLIENT_ID_LENGTH || !CLIENT_ID.test(clientId)) {
				return refuse("bad_event", `'clientId' must be 1 to ${MAX_CLIENT_ID_LENGTH} of A-Z a-z 0-9 _ -`);
			}
			const text = value.text;
			if (typeof text !== "string") return refuse("bad_text", "'text' must be a string", clientId);
			// Lone surrogates (possible through JSON escapes) are replaced with U+FFFD, not stored raw.
			const wellFormed = text.toWellFormed();
			if (wellFormed.trim().length === 0) return refuse("bad_text", "'text' is empty", clientId);
			if (codePointLength(wellFormed) > limits.messageCap) {
				return refuse("text_too_long", `'text' is longer than ${limits.messageCap} characters`, clientId);
			}
			return { ok: true, event: { type, clientId, text: wellFormed } };
		}
		case "typing":
			return { ok: true, event: { type } };
		default:
			return refuse("unknown_type", `unknown event type ${JSON.stringify(type.slice(0, 40))}`);
	}
}
