// @ts-check
/**
 * The values the chat page and the server must agree on, in one place. The page loads this file
 * as a static asset; the server imports it (src/wire/protocol.ts, src/gate/name-check.ts, src/hub/) and
 * bundles it. Change a value here and both sides change together.
 */

/** The WebSocket subprotocol a client offers to speak the rich protocol (PROTOCOL.md). */
export const SUBPROTOCOL = "edgechat.v1";

/**
 * Signed mode: a client offers its token as one more subprotocol, this prefix and the JWT
 * (PROTOCOL.md, "The token"), so the token is in no URL. The server never selects it.
 */
export const TOKEN_SUBPROTOCOL_PREFIX = "edgechat.token.";

/**
 * The heartbeat frame. The runtime answers this exact frame with `PONG` by itself, without
 * waking a hibernated room.
 */
export const PING = '{"type":"ping"}';
/** The runtime's answer to `PING`. */
export const PONG = '{"type":"pong"}';
/** How often a rich client sends `PING`, in milliseconds. */
export const PING_INTERVAL_MS = 30_000;

/** A connection's typing notices reach the others at most this often, in milliseconds. */
export const TYPING_INTERVAL_MS = 2_000;

/** Longest room name, in characters. */
export const MAX_ROOM_NAME_LENGTH = 64;
/** The characters a room name may hold: `A-Z a-z 0-9 _ -` (length checked separately). */
export const ROOM_NAME_CHARACTERS = /^[A-Za-z0-9_-]+$/;

/**
 * Signed mode: seconds of clock difference tolerated for a token's `exp` and `nbf` either way.
 * The Worker enforces it; the page uses it only to say a link has expired without trying it.
 */
export const TOKEN_CLOCK_TOLERANCE_SECONDS = 30;

/** Signed mode: what a token's `role` may be (PROTOCOL.md, "The token"). */
export const ROLES = /** @type {const} */ (["member", "moderator", "readonly"]);

/**
 * Close code (signed mode): a moderator kicked this user, every connection of it. The user may
 * come back, but the page does not reconnect by itself.
 */
export const KICKED_CLOSE_CODE = 4001;
/**
 * Close code (signed mode): a moderator banned this user from the room; the reason reads
 * `banned until <ISO time>`. The page does not reconnect: the room refuses it until then.
 */
export const BANNED_CLOSE_CODE = 4003;

/**
 * The live event a log entry stands for: an entry of a welcome's or a history page's `history`
 * is what the room would have sent live (a message as `message`; an edit, a delete or a reaction
 * summary as the event of that type, its `kind` as the event's `type`). The room's fan-out sends
 * entries this way and the client library reads pages this way, so the two cannot differ.
 * @param {import("../src/wire/log-entries.ts").LogEntry} entry
 * @returns {import("../src/wire/protocol.ts").SingleServerEvent}
 */
export function eventOfEntry(entry) {
	if (!("kind" in entry)) return { type: "message", ...entry };
	const { kind, ...fields } = entry;
	return /** @type {import("../src/wire/protocol.ts").SingleServerEvent} */ ({ type: kind, ...fields });
}
