/**
 * Plain pacing. The tutorial's protocol has no way to say "not now", so a plain message over its
 * connection's allowance is not refused: it is held, in order, behind any held before it, and
 * released as the bucket refills. At most `RATE_LIMIT_MESSAGES` (one window's worth) are held; a
 * frame past that is a flood, and the connection is closed with 1008 (its held frames are
 * dropped, and the Close says why). So every plain frame is delivered or answered. This part
 * owns which plain connections hold frames; the hub's owner owns the timer (`releaseInMs`).
 */
import type { Config } from "../deployment/config.ts";
import { closeFor } from "../wire/close-codes.ts";
import { disarmBidi } from "../wire/parse.ts";
import type { Connection } from "./connection.ts";
import { takeOrWait } from "./flood-control.ts";
import { flooding, type Received } from "./intake.ts";
import { capText } from "./text.ts";

/** Held plain frames, and their release. */
export class PlainPacing {
	readonly #config: Config;
	/** Plain connections with frames held by flood control, until they are released. */
	readonly #holding = new Set<Connection>();

	constructor(config: Config) {
		this.#config = config;
	}

	/** A plain frame (already size-checked): a message, held, or a flood. */
	receive(connection: Connection, frame: string | ArrayBuffer): Received | null {
		if (connection.identity?.role === "readonly") return { kind: "close", from: connection, ...closeFor("readOnly") };
		if (this.#config.rateLimitMessages === 0) return this.#message(connection, frame);
		let releaseInMs = 0;
		if (connection.heldCount === 0) {
			releaseInMs = takeOrWait(connection.bucket, this.#config, Date.now());
			connection.changed();
			if (releaseInMs === 0) return this.#message(connection, frame);
		}
		if (connection.heldCount >= this.#config.rateLimitMessages) return flooding(connection, this.#config);
		connection.hold(frame);
		this.#holding.add(connection);
		// Only the first held frame needs a release set; the ones behind it go with the same one.
		return connection.heldCount === 1 ? { kind: "held", releaseInMs } : null;
	}

	/**
	 * A plain client that closed (or dropped) with frames still held: they were accepted, so
	 * they are handed over now, at once, rather than lost with the connection. At most one
	 * window's worth, so closing early is no way around the allowance.
	 */
	takeHeld(connection: Connection): Received[] {
		this.#holding.delete(connection);
		return connection.takeHeld().map((frame) => this.#message(connection, frame));
	}

	/** A connection that is gone or closing: its held frames go with it. */
	forget(connection: Connection): void {
		this.#holding.delete(connection);
		connection.takeHeld();
	}

	/**
	 * Releases held frames whose tokens have come back, oldest first per connection; says when
	 * to call again (`null`: nothing is held any more).
	 */
	release(now: number): { released: Received[]; nextInMs: number | null } {
		const released: Received[] = [];
		let nextInMs: number | null = null;
		for (const connection of this.#holding) {
			while (connection.heldCount > 0) {
				const waitMs = takeOrWait(connection.bucket, this.#config, now);
				if (waitMs > 0) {
					nextInMs = Math.min(nextInMs ?? waitMs, waitMs);
					break;
				}
				released.push(this.#message(connection, connection.nextHeld() as string | ArrayBuffer));
			}
			connection.changed();
			if (connection.heldCount === 0) this.#holding.delete(connection);
		}
		return { released, nextInMs };
	}

	/**
	 * Plain mode, exactly as the tutorial's server: text is cut to the cap (its bidi overrides and
	 * isolates shown as U+FFFD, src/wire/parse.ts `disarmBidi`) and becomes a message
	 * (sent as text to every plain socket, the sender too, and as a message event to rich ones).
	 * Binary is relayed as binary to plain sockets only (the rich protocol is text). An empty
	 * frame is a valid message for plain clients, but it is not stored or shown to rich ones.
	 */
	#message(connection: Connection, frame: string | ArrayBuffer): Received {
		const text = typeof frame === "string" ? disarmBidi(capText(frame, this.#config.plainMessageCap)) : frame;
		if (typeof text !== "string" || text.length === 0) return { kind: "frame", ...connection.actor, frame: text };
		return { kind: "send", ...connection.actor, text, clientId: null, replyTo: null };
	}
}
