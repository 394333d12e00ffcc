/**
 * Fan-out: everything a hub sends. It turns the deliveries of a burst into frames (plain text
 * at once, rich events through the coalescer, src/hub/coalescer.ts), answers one connection alone,
 * holds answers for a connection still waiting for its welcome, and applies the slow-consumer
 * policy before anything goes to a connection. It closes nothing and forgets nobody itself: the
 * closes a delivery asks for and the sockets found gone are returned to the hub (src/hub/hub.ts),
 * which owns every connection's lifecycle.
 */
import { eventOfEntry } from "../../public/contract.js";
import type { Config } from "../deployment/config.ts";
import { logEvent } from "../deployment/log-event.ts";
import { type Close, closeFor } from "../wire/close-codes.ts";
import type { LogEntry } from "../wire/log-entries.ts";
import type { ErrorEvent, SingleServerEvent } from "../wire/protocol.ts";
import type { Delivery } from "../wire/rpc.ts";
import { Coalescer } from "./coalescer.ts";
import type { Connection, Connections } from "./connection.ts";
import { trySend } from "./sockets.ts";

/**
 * What fan-out asks of the hub: connections to close after what waits for them (`closes`),
 * connections cut off as too slow (`slow`: closed with 1013 without what waits), and sockets
 * found gone while sending (`gone`).
 */
export interface FanoutOutcome {
	readonly closes: { readonly connection: Connection; readonly close: Close }[];
	readonly slow: Connection[];
	readonly gone: Connection[];
}

/**
 * What plain sockets see of a log entry: the tutorial's bare text for a plain client's message
 * (plain clients send no `clientId`), `name: text` for a rich client's or the HTTP API's, and
 * nothing of an edit or a delete (the tutorial's protocol cannot show them).
 */
function plainTextOf(entry: LogEntry): string | null {
	if ("kind" in entry) return null;
	return entry.clientId === null && !entry.api ? entry.text : `${entry.name}: ${entry.text}`;
}

/** Everything one hub sends. */
export class Fanout {
	readonly #config: Config;
	readonly #connections: Connections;
	readonly #coalescer: Coalescer;
	/** Whether plain sockets were checked for slowness in this burst (before its first plain frame). */
	#plainChecked = false;
	/** What this burst's fan-out asks of the hub so far (taken by `takeOutcome`). */
	#closes: FanoutOutcome["closes"] = [];
	#slow: Connection[] = [];
	#gone: Connection[] = [];
	/** Connections cut off in this burst: nothing more is sent to them. */
	readonly #cut = new Set<Connection>();
	/** Plain sockets that had bytes waiting when this burst's first plain frame went: how many now. */
	readonly #plainWaiting = new Map<Connection, number>();

	constructor(config: Config, connections: Connections) {
		this.#config = config;
		this.#connections = connections;
		this.#coalescer = new Coalescer(connections.joined);
	}

	/**
	 * Fans out the outcome of a burst, in order. Events for rich connections wait in the coalescer
	 * for `flush`; plain frames go out at once (one frame per message is plain mode's contract).
	 */
	deliver(deliveries: readonly Delivery[]): void {
		for (const delivery of deliveries) {
			switch (delivery.kind) {
				case "message":
					this.#broadcast(eventOfEntry(delivery.message), plainTextOf(delivery.message));
					break;
				case "frame":
					this.#sendToPlain(delivery.frame);
					break;
				case "echo":
					this.#to(delivery.to, (connection) => this.sendTo(connection, { type: "message", ...delivery.message }));
					break;
				case "refused":
					this.#to(delivery.to, (connection) => this.#refuseUnstored(connection, delivery.clientId));
					break;
				case "error":
					this.#to(delivery.to, (connection) => this.#refuse(connection, delivery.error));
					break;
				case "remove":
					if (delivery.notice) this.#broadcast(delivery.notice, null);
					for (const connection of this.#connections) {
						if (connection.identity?.userId === delivery.userId) this.#closes.push({ connection, close: delivery });
					}
					break;
				case "join":
				case "leave": {
					const { kind: type, name, userId } = delivery;
					this.#broadcast(userId === null ? { type, name } : { type, name, userId }, null);
					break;
				}
				case "presence":
					this.#broadcast(delivery.event, null);
					break;
				case "typing":
					this.#broadcast({ type: "typing", name: delivery.name }, null, this.#connections.byId(delivery.from));
					break;
				case "welcome":
					this.#to(delivery.to, (connection) => this.#welcome(connection, delivery.event));
					break;
				case "history":
				case "reactors":
					this.#to(delivery.to, (connection) => this.sendTo(connection, delivery.event));
					break;
				case "settings":
					this.#broadcast(delivery.event, null);
					break;
			}
		}
	}

	/** Runs `send` for the connection with this id, if the hub still holds it. */
	#to(id: string, send: (connection: Connection) => void): void {
		const connection = this.#connections.byId(id);
		if (connection) send(connection);
	}

	/**
	 * A rich client is welcomed: it gets the room as it was when it said hello (members, and the
	 * history it asked for), then the answers to what it sent meanwhile, and every broadcast from
	 * here on.
	 */
	#welcome(connection: Connection, welcome: SingleServerEvent): void {
		const waiting = connection.welcomed();
		this.#connections.joined.add(connection);
		this.#coalescer.joined(connection);
		this.#coalescer.unicast(connection, JSON.stringify(welcome));
		for (const frame of waiting) this.#coalescer.unicast(connection, frame);
	}

	/** Sends one event to one rich connection, after whatever is already queued for it (or after its welcome). */
	sendTo(connection: Connection, event: SingleServerEvent): void {
		const frame = JSON.stringify(event);
		if (connection.awaitingWelcome) connection.holdForWelcome(frame);
		else this.#coalescer.unicast(connection, frame);
	}

	/**
	 * Tells a connection the room refused what it sent: a rich client gets the error event; a
	 * plain client has none in its protocol, so it is closed with 1008 and the reason (the room's
	 * settings are the only refusals a plain client's message can meet).
	 */
	#refuse(connection: Connection, error: ErrorEvent): void {
		if (connection.mode === "plain") this.#closes.push({ connection, close: closeFor("refused", error.message) });
		else this.sendTo(connection, error);
	}

	/**
	 * Tells a sender its message was not stored: a rich client gets `server_error` with the
	 * message's clientId (it may resend it); a plain client cannot be told in-band, so it is
	 * closed with 1011.
	 */
	#refuseUnstored(connection: Connection, clientId: string | null): void {
		if (connection.mode === "plain") {
			this.#closes.push({ connection, close: closeFor("notStored") });
			return;
		}
		// An edit or a delete has no clientId: it is refused all the same, without one.
		this.sendTo(connection, {
			type: "error",
			code: "server_error",
			message: "the room could not store that; retry later",
			...(clientId === null ? {} : { clientId }),
		});
	}

	/**
	 * Sends one event to every joined rich connection (queued in the coalescer, encoded once) and,
	 * when `plainText` is given, that text to every plain socket at once.
	 */
	#broadcast(event: SingleServerEvent, plainText: string | null, except?: Connection): void {
		if (this.#connections.joined.size > 0) this.#coalescer.broadcast(JSON.stringify(event), except);
		if (plainText !== null) this.#sendToPlain(plainText, except);
	}

	/** Sends one frame to every plain socket (but `except`), the same string or buffer to each. */
	#sendToPlain(frame: string | ArrayBuffer, except?: Connection): void {
		if (!this.#plainChecked) {
			this.#plainChecked = true;
			this.#cutOffSlow(this.#connections.plain);
		}
		const bytes = typeof frame === "string" ? frame.length : frame.byteLength;
		for (const connection of this.#connections.plain) {
			if (connection === except || this.#cut.has(connection)) continue;
			// A plain socket that had something waiting at the burst's start counts what the burst adds.
			if (this.#plainWaiting.size > 0 && !this.#plainTakes(connection, bytes)) continue;
			if (!trySend(connection.ws, frame)) this.#gone.push(connection);
		}
	}

	/** Whether a plain socket with bytes waiting since the burst's start takes `bytes` more (else it is cut off). */
	#plainTakes(connection: Connection, bytes: number): boolean {
		const waiting = this.#plainWaiting.get(connection);
		if (waiting === undefined) return true;
		if (waiting + bytes <= this.#config.maxBufferedBytes) {
			this.#plainWaiting.set(connection, waiting + bytes);
			return true;
		}
		this.#cutOff(connection, waiting);
		return false;
	}

	/** Whether events wait for a `flush`. */
	get hasQueued(): boolean {
		return !this.#coalescer.isEmpty;
	}

	/** Sends what waits for one connection now (it is about to be closed); false if it could not be. */
	flushOne(connection: Connection): boolean {
		for (const frame of connection.welcomed()) this.#coalescer.unicast(connection, frame);
		return this.#coalescer.flushOne(connection);
	}

	/** Drops whatever waits for a connection that is gone. */
	forget(connection: Connection): void {
		this.#coalescer.forget(connection);
	}

	/**
	 * Sends what waits: one frame per rich recipient, each first checked against the slow-consumer
	 * policy (`#cutOffSlow`, `#takes`).
	 */
	flush(): void {
		this.#plainChecked = false;
		this.#plainWaiting.clear();
		this.#gone.push(...this.#coalescer.flush((connection, frame) => this.#takes(connection, frame.length)));
		this.#cut.clear();
	}

	/**
	 * The slow-consumer policy. A peer that stops reading (a stalled tab, a phone on a dead
	 * network that has not timed out yet) makes every frame sent to it wait in the object's
	 * memory, and an object past its memory limit is reset with all its sockets (docs/platform.md).
	 * So a connection is cut off with 1013, without this burst, when more than `MAX_BUFFERED_BYTES`
	 * still waits for it from earlier bursts, or when something waits and this burst would take it
	 * past that: its backlog stops growing and everyone else carries on. A rich client reconnects
	 * and resumes from the last message it saw (PROTOCOL.md, "Closing").
	 *
	 * The check runs before the burst's frames are handed over, not after: a reader that keeps up
	 * has taken the earlier bursts by then (nothing waits), and takes a burst of any size, which
	 * the budgets of src/wire/limits.ts bound. The runtime reports `bufferedAmount` for hibernatable
	 * sockets too; it is read once per recipient per burst. A frame's size is counted in UTF-16
	 * units, never more than its bytes. The hub closes a cut-off connection (`takeOutcome`).
	 *
	 * This is the rich side: a connection's one frame of the burst (`bytes` long).
	 */
	#takes(connection: Connection, bytes: number): boolean {
		if (this.#cut.has(connection)) return false;
		const max = this.#config.maxBufferedBytes;
		if (max === 0) return true;
		const buffered = connection.ws.bufferedAmount;
		if (buffered === 0 || buffered + bytes <= max) return true;
		this.#cutOff(connection, buffered);
		return false;
	}

	/** What fan-out asks of the hub since it was last asked. */
	takeOutcome(): FanoutOutcome {
		const outcome = { closes: this.#closes, slow: this.#slow, gone: this.#gone };
		this.#closes = [];
		this.#slow = [];
		this.#gone = [];
		return outcome;
	}

	/**
	 * The slow-consumer policy (`#takes`) for plain sockets, which may get several frames a burst:
	 * before the burst's first plain frame, those with more than `MAX_BUFFERED_BYTES` waiting are
	 * cut off, and those with anything waiting count what each frame adds (`#plainTakes`).
	 */
	#cutOffSlow(connections: Iterable<Connection>): void {
		const max = this.#config.maxBufferedBytes;
		if (max === 0) return;
		for (const connection of connections) {
			const buffered = connection.ws.bufferedAmount;
			if (buffered === 0 || this.#cut.has(connection)) continue;
			if (buffered > max) this.#cutOff(connection, buffered);
			else this.#plainWaiting.set(connection, buffered);
		}
	}

	/** Cuts a slow reader off: it is sent nothing more, and the hub closes it (1013) without what waited. */
	#cutOff(connection: Connection, buffered: number): void {
		logEvent("slow_consumer", { bufferedBytes: buffered, limit: this.#config.maxBufferedBytes, mode: connection.mode });
		this.#cut.add(connection);
		this.#coalescer.drop(connection);
		this.#slow.push(connection);
	}
}
