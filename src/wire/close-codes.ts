/**
 * Every close code the server chooses, with its reason: the one table the code closes with and
 * that PROTOCOL.md's "Closing" table is tested against (test/docs/close-codes.test.ts). A close
 * the server decides goes through `closeFor` and one of these names; a client's own Close is
 * answered with the client's code (src/hub/sockets.ts), which is not a choice of ours.
 *
 * Codes mean what RFC 6455 section 7.4.1 says: 1001 going away, 1008 policy, 1009 too big, 1011
 * server fault, 1012 service restart, 1013 try again later; 4001 and 4003 are ours (the page
 * knows them from public/contract.js and does not reconnect).
 */
import { BANNED_CLOSE_CODE, KICKED_CLOSE_CODE } from "../../public/contract.js";

/** One close the server can choose: its code and its reason (a `…` stands for the details). */
export interface CloseEntry {
	readonly code: number;
	/** The reason as PROTOCOL.md writes it; `N` and `…` stand for values filled in at the close. */
	readonly reason: string;
}

/** Every close the server chooses, by name. */
export const CLOSES = {
	/** A rich connection sent nothing, not even a ping, for `HEARTBEAT_TIMEOUT_SECONDS`. */
	noHeartbeat: { code: 1001, reason: "no heartbeat" },
	/** A plain connection sent nothing for `PLAIN_IDLE_TIMEOUT_SECONDS`. */
	idle: { code: 1001, reason: "idle: nothing sent for N s" },
	/** The client's Close carried a code no endpoint may send. */
	invalidCloseCode: { code: 1002, reason: "invalid close code" },
	/** The connection kept flooding past its allowance. */
	flooding: { code: 1008, reason: "too many messages" },
	/** A rich connection said no `hello` within `HELLO_TIMEOUT_MS` of opening. */
	noHello: { code: 1008, reason: "no hello within N s" },
	/** A plain client's message was refused by the room's settings (slow mode, an announcement room). */
	refused: { code: 1008, reason: "refused: …" },
	/** Signed mode: a plain client with a read-only token sent a frame. */
	readOnly: { code: 1008, reason: "read-only: this token may not send" },
	/** A frame over `MAX_FRAME_BYTES`. */
	frameTooBig: { code: 1009, reason: "frame larger than N bytes" },
	/** Handling this connection's frame failed unexpectedly. */
	internalError: { code: 1011, reason: "internal error" },
	/** A plain client's message could not be stored (plain mode has no error event). */
	notStored: { code: 1011, reason: "could not store the message" },
	/** A shard lost an update from the room's object and could not fetch it. */
	missedUpdates: { code: 1012, reason: "missed updates; reconnect and resume" },
	/** A shard could not fetch messages it missed (no longer retained, or the room did not answer). */
	missedMessages: { code: 1012, reason: "missed messages; reconnect and resume" },
	/** A shard could not pass a `hello` on to the room's object. */
	roomUnreachable: { code: 1013, reason: "the room could not be reached; try again" },
	/** More than `MAX_BUFFERED_BYTES` still waited for the client when more was about to be sent. */
	tooSlow: { code: 1013, reason: "too slow: more than N bytes unread" },
	/** Signed mode: a moderator kicked this user. */
	kicked: { code: KICKED_CLOSE_CODE, reason: "kicked by a moderator" },
	/** Signed mode: a moderator banned this user (and the room enforces the ban). */
	banned: { code: BANNED_CLOSE_CODE, reason: "banned until …" },
} as const satisfies Record<string, CloseEntry>;

/** The name of a close the server chooses. */
export type CloseName = keyof typeof CLOSES;

/** A close to perform: a code and the reason sent with it. */
export interface Close {
	readonly code: number;
	readonly reason: string;
}

/**
 * The close named `name`, its placeholder (`N` or `…`) filled with `detail` where the reason has
 * one: `closeFor("frameTooBig", 16384)` is 1009 `frame larger than 16384 bytes`.
 */
export function closeFor(name: CloseName, detail?: string | number): Close {
	const { code, reason } = CLOSES[name];
	if (detail === undefined) return { code, reason };
	return { code, reason: reason.replace(/\bN\b|…/, String(detail)) };
}

/** What a banned user is told, at the door (403) and in the Close (PROTOCOL.md). */
export function bannedReason(until: number): string {
	return closeFor("banned", new Date(until).toISOString()).reason;
}
