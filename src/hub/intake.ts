/**
 * Intake: every frame a hub's clients send, checked before anything else looks at it. Size
 * first, then (rich mode) the protocol and flood control, then who may do what as far as the
 * connection's session alone tells (a read-only token, a moderator's role, open mode). What it
 * refuses it answers to the sender alone (through fan-out); what needs the room comes back as a
 * `Received` for the hub's owner to act on. Plain frames go to pacing (src/hub/plain-pacing.ts).
 */

import { TYPING_INTERVAL_MS } from "../../public/contract.js";
import type { Config } from "../deployment/config.ts";
import { logEvent } from "../deployment/log-event.ts";
import { closeFor } from "../wire/close-codes.ts";
import { HISTORY_PAGE_DEFAULT, SMALL_FRAME_BYTES } from "../wire/limits.ts";
import { type ParseLimits, parseClientEvent } from "../wire/parse.ts";
import type { ClientEvent, ErrorCode, HistoryRequest, ReactorsRequest } from "../wire/protocol.ts";
import type { Submission } from "../wire/rpc.ts";
import type { Connection } from "./connection.ts";
import type { Fanout } from "./fanout.ts";
import { verdictOf } from "./flood-control.ts";
import { exceedsUtf8Bytes } from "./text.ts";

/**
 * What a frame comes to once the hub has checked it, when its owner has to act (a frame the hub
 * answered itself, such as a refusal, comes to `null`):
 * - `hello`, `send`, `typing`, `frame`, `edit`, `delete`, `kick`, `ban`, `history`, `react`,
 *   `reactors`, `read`: a `Submission` for the room (src/wire/rpc.ts);
 * - `close`: the connection must be closed (too big, flooding), once what it is owed has gone;
 * - `held`: a plain client went over its allowance and its frame waits; the owner is to call
 *   `Hub.releaseHeld` in `releaseInMs`.
 */
export type Received =
	| Extract<
			Submission,
			{
				kind:
					| "hello"
					| "send"
					| "typing"
					| "frame"
					| "edit"
					| "delete"
					| "kick"
					| "ban"
					| "history"
					| "react"
					| "reactors"
					| "read"
					| "settings";
			}
	  >
	| { readonly kind: "close"; readonly from: Connection; readonly code: number; readonly reason: string }
	| { readonly kind: "held"; readonly releaseInMs: number };

/** A connection's `read` positions reach the room at most this often (half the interval clients keep). */
export const READ_INTERVAL_MS = 1_000;

/** What a frame from a connection that floods comes to. */
export function flooding(connection: Connection, config: Config): Received {
	logEvent("flood_closed", { mode: connection.mode, limit: config.rateLimitMessages });
	return { kind: "close", from: connection, ...closeFor("flooding") };
}

/** The checks of every frame. */
export class Intake {
	readonly #config: Config;
	readonly #fanout: Fanout;
	/** What the parser checks, for open and for signed connections (built once, not per frame). */
	readonly #openLimits: ParseLimits;
	readonly #signedLimits: ParseLimits;

	constructor(config: Config, fanout: Fanout) {
		this.#config = config;
		this.#fanout = fanout;
		this.#openLimits = { messageCap: config.richMessageCap };
		this.#signedLimits = { messageCap: config.richMessageCap, signed: true };
	}

	/** A frame over `MAX_FRAME_BYTES` closes its connection with 1009; `null` when it is not too big. */
	tooBig(connection: Connection, frame: string | ArrayBuffer): Received | null {
		const max = this.#config.maxFrameBytes;
		const big = typeof frame === "string" ? exceedsUtf8Bytes(frame, max) : frame.byteLength > max;
		return big ? { kind: "close", from: connection, ...closeFor("frameTooBig", max) } : null;
	}

	/**
	 * Rich mode: one JSON event per frame, answered with an error event when it is not valid.
	 * Every frame is charged to the connection's frame budget first, unread
	 * (src/wire/limits.ts `FRAME_BUCKET`). Then every frame counts against the message allowance
	 * except a connection's one valid `hello` and its `typing`, `read` and `history`, which have
	 * paces of their own: joining, typing and catching up never eat into a client's messages.
	 */
	rich(connection: Connection, frame: string | ArrayBuffer): Received | null {
		// Every frame costs its sender before it is read: typing, read positions and history
		// requests are free of the message allowance, not free of the room's thread. (Flood control
		// off, RATE_LIMIT_MESSAGES 0, is off for frames too: a load test sends as fast as it can.)
		const size = typeof frame === "string" ? frame.length : frame.byteLength;
		const charged = this.#config.rateLimitMessages === 0 ? 0 : connection.chargeFrame(size, Date.now());
		if (charged === "flooding") return flooding(connection, this.#config);
		if (charged > 0) {
			const message = `too many frames: wait ${charged} ms`;
			this.#fanout.sendTo(connection, { type: "error", code: "rate_limited", message, retryAfterMs: charged });
			return null;
		}
		const { identity } = connection;
		const limits = identity === null ? this.#openLimits : this.#signedLimits;
		let parsed = typeof frame === "string" ? parseClientEvent(frame, limits) : null;
		// A typing notice or a read position is a few dozen bytes: more is padding, refused like
		// any malformed frame (it then counts against the message allowance, not as free).
		const type = parsed?.ok ? parsed.event.type : null;
		if ((type === "typing" || type === "read") && exceedsUtf8Bytes(frame as string, SMALL_FRAME_BYTES)) {
			const message = `a '${type}' frame is at most ${SMALL_FRAME_BYTES} bytes`;
			parsed = { ok: false, error: { type: "error", code: "bad_event", message } };
		}
		const event = parsed?.ok ? parsed.event : null;
		if (event?.type === "typing" && connection.name !== null && identity?.role !== "readonly") {
			return connection.mayType(Date.now(), TYPING_INTERVAL_MS) ? { kind: "typing", ...connection.actor } : null;
		}
		if (event?.type === "read" && connection.name !== null && identity !== null) {
			// A read position is not a message: it costs no allowance, and at most one per
			// `READ_INTERVAL_MS` is taken (a client reports every 2 s at most; PROTOCOL.md).
			return connection.mayRead(Date.now(), READ_INTERVAL_MS)
				? { kind: "read", ...connection.actor, id: event.id }
				: null;
		}
		if (event?.type === "history" && connection.name !== null) return this.#history(connection, event);
		if (event?.type === "reactors" && connection.name !== null) return this.#reactors(connection, event);
		const free = event?.type === "hello" && connection.name === null;
		if (!free) {
			const admitted = this.#admit(connection, event?.type === "send" ? event.clientId : undefined);
			if (admitted !== "go") return admitted === "flooding" ? flooding(connection, this.#config) : null;
		}
		if (parsed === null) {
			this.#sendError(connection, "binary_unsupported", "edgechat.v1 takes JSON text frames only");
		} else if (!parsed.ok) {
			this.#fanout.sendTo(connection, parsed.error);
		} else if (parsed.event.type === "hello") {
			if (connection.name === null) {
				// Named from now on (so what it sends next in this burst is taken), welcomed when the
				// room answers. In signed mode the name is the token's, whatever the hello says.
				connection.join(identity?.name ?? parsed.event.name);
				return { kind: "hello", ...connection.actor, since: parsed.event.since };
			}
			this.#sendError(connection, "already_joined", "this connection has already said hello");
		} else if (connection.name === null) {
			const clientId = parsed.event.type === "send" ? parsed.event.clientId : undefined;
			this.#sendError(connection, "not_joined", "say hello (with a name) first", clientId);
		} else {
			return this.#command(connection, parsed.event);
		}
		return null;
	}

	/**
	 * Rich flood control: whether this frame may go on (`go`), was refused (the client is told
	 * when to retry, with the refused send's `clientId`), or comes from a client that keeps
	 * flooding and is to be closed with 1008. The bucket is kept in the session, saved once per
	 * burst, so hibernation refills nothing early.
	 */
	#admit(connection: Connection, clientId?: string): "go" | "refused" | "flooding" {
		if (this.#config.rateLimitMessages === 0) return "go";
		const verdict = verdictOf(connection.bucket, this.#config, Date.now());
		if (verdict.kind === "close") return "flooding";
		connection.changed();
		if (verdict.kind === "allow") return "go";
		this.#fanout.sendTo(connection, {
			type: "error",
			code: "rate_limited",
			message: `too many messages: wait ${verdict.retryAfterMs} ms`,
			retryAfterMs: verdict.retryAfterMs,
			...(clientId === undefined ? {} : { clientId }),
		});
		return "refused";
	}

	/**
	 * What a joined rich connection asks, once parsed: what the room must act on, or `null` when
	 * it has been answered (a refusal).
	 */
	#command(connection: Connection, event: ClientEvent): Received | null {
		const { identity } = connection;
		if (event.type === "hello" || event.type === "typing") {
			// A second hello was answered above; a read-only connection's typing is refused here.
			return this.#forbid(connection, "read-only (a guest, or a read-only token): it cannot send");
		}
		// Reading is for everyone who joined: (signed mode) where one has read to.
		if (event.type === "read") {
			if (identity === null) return this.#forbid(connection, "'read' needs signed identity (AUTH_SECRET)");
			return { kind: "read", ...connection.actor, id: event.id };
		}
		const clientId = event.type === "send" ? event.clientId : undefined;
		if (identity?.role === "readonly")
			return this.#forbid(connection, "read-only (a guest, or a read-only token): it cannot send", clientId);
		if (event.type === "send") {
			// The typing throttle is not reset here: typing reaches the others at most once per
			// interval per connection, messages or not (PROTOCOL.md); clients clear it on a message.
			const { text, replyTo } = event;
			return { kind: "send", ...connection.actor, text, clientId: event.clientId, replyTo: replyTo ?? null };
		}
		if (event.type === "react") {
			return { kind: "react", ...connection.actor, id: event.id, emoji: event.emoji, on: event.on };
		}
		if (identity === null) return this.#forbid(connection, `'${event.type}' needs signed identity (AUTH_SECRET)`);
		switch (event.type) {
			case "edit":
				return { kind: "edit", ...connection.actor, id: event.id, text: event.text };
			case "delete":
				return { kind: "delete", ...connection.actor, id: event.id };
			case "kick":
			case "ban":
				if (identity.role !== "moderator") return this.#forbid(connection, `only moderators may ${event.type}`);
				return event.type === "kick"
					? { kind: "kick", ...connection.actor, target: event.userId }
					: { kind: "ban", ...connection.actor, target: event.userId, seconds: event.seconds };
			case "settings": {
				if (identity.role !== "moderator")
					return this.#forbid(connection, "only moderators may change the room's settings");
				const { type: _, ...patch } = event;
				return { kind: "settings", ...connection.actor, patch };
			}
			case "history":
			case "reactors":
				// Taken before flood control (`#history`, `#reactors`): never here.
				return null;
		}
	}

	/**
	 * A joined connection asks for a page of history. Pages do not count against the message
	 * allowance but have a pace of their own (`Connection.takePage`): over it, the request is
	 * answered at once with an empty page saying when to ask again.
	 */
	#history(connection: Connection, event: HistoryRequest): Received | null {
		const wait = connection.takePage(Date.now());
		const asked = event.before === undefined ? { after: event.after ?? 0 } : { before: event.before };
		if (wait > 0) {
			this.#fanout.sendTo(connection, { type: "history", ...asked, entries: [], more: true, retryAfterMs: wait });
			return null;
		}
		const limit = event.limit ?? HISTORY_PAGE_DEFAULT;
		return { kind: "history", ...connection.actor, before: event.before ?? null, after: event.after ?? null, limit };
	}

	/**
	 * A joined connection asks who reacted: a read of the room's like a page of history, with the
	 * same pace (over it, answered at once with none and when to ask again).
	 */
	#reactors(connection: Connection, event: ReactorsRequest): Received | null {
		const wait = connection.takePage(Date.now());
		const { id, emoji, offset = 0 } = event;
		if (wait > 0) {
			this.#fanout.sendTo(connection, {
				...{ type: "reactors", id, emoji, offset, reactors: [], more: true },
				retryAfterMs: wait,
			});
			return null;
		}
		return { kind: "reactors", ...connection.actor, id, emoji, offset };
	}

	/** Refuses what a connection asked with `forbidden`. */
	#forbid(connection: Connection, message: string, clientId?: string): null {
		this.#sendError(connection, "forbidden", message, clientId);
		return null;
	}

	/** Sends one error event; a refused `send` carries its `clientId` (PROTOCOL.md). */
	#sendError(connection: Connection, code: ErrorCode, message: string, clientId?: string): void {
		this.#fanout.sendTo(connection, { type: "error", code, message, ...(clientId === undefined ? {} : { clientId }) });
	}
}
