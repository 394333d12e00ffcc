/**
 * The hub: the connections one object holds, and everything about them that is not the log.
 * It accepts sockets, checks every frame (size, flood control, the protocol) and answers what
 * it refuses, paces plain clients over their allowance, throttles typing, fans out the
 * deliveries it is handed, cuts off readers that fall too far behind, decides close codes and
 * finds silent peers. It knows nothing of SQL or of presence: what to store and in which order,
 * and who is in the room, are the room's business (a room may span several objects, each with a
 * hub: src/shard/), and so is when a burst ends.
 *
 * Nothing here calls back into its owner. A frame that needs the room comes back from `receive`
 * as a `Received` to act on, and connections that came and went from `takePresenceChanges`; the
 * owner hands the outcome back with `deliver` and says when to send with `flush`.
 */

import type { Identity } from "../auth/identity.ts";
import type { Config } from "../config.ts";
import { type ConnectionId, type Delivery, type MemberCounts, memberKeyOf, type Submission } from "../delivery.ts";
import { logEvent } from "../log-event.ts";
import {
	type ClientEvent,
	type ErrorCode,
	type LogEntry,
	type ParseLimits,
	PLAIN_NAME,
	parseClientEvent,
	type SingleServerEvent,
	TYPING_INTERVAL_MS,
	type WelcomeEvent,
} from "../protocol.ts";
import { capText, exceedsUtf8Bytes } from "../text.ts";
import { Connection, Connections, type Session } from "./connection.ts";
import { newBucket, takeToken, tryTakeToken } from "./flood-control.ts";
import { type AlarmStorage, Liveness } from "./liveness.ts";
import { Outbox } from "./outbox.ts";
import { closeSocket, trySend } from "./sockets.ts";

/** The parts of the Durable Object's state a hub uses: its hibernatable sockets and its alarm. */
export interface HubState {
	acceptWebSocket(ws: WebSocket): void;
	getWebSockets(): WebSocket[];
	getWebSocketAutoResponseTimestamp(ws: WebSocket): Date | null;
	readonly storage: AlarmStorage;
}

/**
 * What a frame comes to once the hub has checked it, when its owner has to act (a frame the hub
 * answered itself, such as a refusal, comes to `null`):
 * - `hello`, `send`, `typing`, `frame`, `edit`, `delete`, `kick`, `ban`: a `Submission` for the
 *   room (src/delivery.ts);
 * - `close`: the connection must be closed (too big, flooding); the room ends the burst first,
 *   so what the burst holds for it goes out ahead of the Close;
 * - `held`: a plain client went over its allowance and its frame waits (`releaseHeld`); the
 *   owner is to call `releaseHeld` in `releaseInMs`.
 */
export type Received =
	| Extract<Submission, { kind: "hello" | "send" | "typing" | "frame" | "edit" | "delete" | "kick" | "ban" }>
	| { readonly kind: "close"; readonly from: Connection; readonly code: number; readonly reason: string }
	| { readonly kind: "held"; readonly releaseInMs: number };

/**
 * What plain sockets see of a log entry: the tutorial's bare text for a plain client's message
 * (plain clients send no `clientId`), `name: text` for a rich client's, and nothing of an edit
 * or a delete (the tutorial's protocol cannot show them).
 */
function plainTextOf(entry: LogEntry): string | null {
	if ("kind" in entry) return null;
	return entry.clientId === null ? entry.text : `${entry.name}: ${entry.text}`;
}

/** The event a log entry reaches rich clients as. */
function eventOf(entry: LogEntry): SingleServerEvent {
	if (!("kind" in entry)) return { type: "message", ...entry };
	const { kind, ...fields } = entry;
	return kind === "edit" ? { type: "edit", ...fields, text: entry.text } : { type: "delete", ...fields };
}

/** The connections of one object, and what they say to each other. */
export class Hub {
	readonly #config: Config;
	readonly #state: HubState;
	readonly #connections = new Connections();
	readonly #outbox = new Outbox();
	readonly #liveness: Liveness;
	/** Plain connections with frames held by flood control, until they are released. */
	readonly #holding = new Set<Connection>();
	/** Whether plain sockets were checked for slowness in this burst (before its first plain frame). */
	#plainChecked = false;
	/** What the parser checks, for open and for signed connections (built once, not per frame). */
	readonly #openLimits: ParseLimits;
	readonly #signedLimits: ParseLimits;
	/** Named connections that came or went since the owner last asked (`takePresenceChanges`). */
	#presenceChanges: Submission[] = [];

	/**
	 * Rebuilds the hub from the sockets the runtime kept while the object was away: each carries
	 * its session as its attachment, so this runs once per wake, never per message.
	 */
	constructor(config: Config, state: HubState) {
		this.#config = config;
		this.#state = state;
		this.#liveness = new Liveness(state.storage, config.heartbeatTimeoutSeconds);
		this.#openLimits = { messageCap: config.messageCap };
		this.#signedLimits = { messageCap: config.messageCap, signed: true };
		for (const ws of state.getWebSockets()) {
			const connection = Connection.restore(ws);
			if (connection) this.#connections.add(connection);
		}
	}

	// -- connect ---------------------------------------------------------------------------------

	/**
	 * Takes on a new server-side socket (hibernatable), its id starting with `idPrefix` (a shard's
	 * number, src/delivery.ts `shardOf`), acting as `identity` in signed mode. A plain client is
	 * present (as `guest`, or its token's name) from the start, so its arrival is a presence
	 * change for the room; a rich one is present once it says hello.
	 */
	accept(ws: WebSocket, mode: Session["mode"], idPrefix = "", identity: Identity | null = null): Connection {
		this.#state.acceptWebSocket(ws);
		const now = Date.now();
		const connection = new Connection(ws, {
			id: `${idPrefix}${crypto.randomUUID()}`,
			mode,
			name: mode === "plain" ? (identity?.name ?? PLAIN_NAME) : null,
			identity,
			connectedAt: now,
			bucket: newBucket(this.#config, now),
		});
		connection.save();
		this.#connections.add(connection);
		if (connection.session.name !== null) this.#presenceChanges.push({ kind: "arrive", ...connection.actor });
		return connection;
	}

	/** The liveness alarm has fired (so it is no longer pending). */
	alarmFired(): void {
		this.#liveness.alarmFired();
	}

	/** Keeps the liveness sweep scheduled while rich connections exist. */
	keepSweeping(): Promise<void> {
		return this.#liveness.keepSweeping(this.#connections.anyRich);
	}

	// -- message ---------------------------------------------------------------------------------

	/**
	 * A frame from one client: size-checked, then rate-limited, then read by its mode. Whatever
	 * it holds, only its sender is answered or closed.
	 */
	receive(ws: WebSocket, frame: string | ArrayBuffer): Received | null {
		const connection = this.#connections.get(ws);
		if (!connection || connection.closing) return null;
		connection.lastFrameAt = Date.now();
		const max = this.#config.maxFrameBytes;
		const tooBig = typeof frame === "string" ? exceedsUtf8Bytes(frame, max) : frame.byteLength > max;
		if (tooBig) return { kind: "close", from: connection, code: 1009, reason: `frame larger than ${max} bytes` };
		if (connection.session.mode === "rich") return this.#receiveRich(connection, frame);
		return this.#pacePlain(connection, frame);
	}

	/**
	 * Plain flood control. The tutorial's protocol has no way to say "not now", so a message over
	 * the allowance is not refused: it is held, in order, behind any held before it, and released
	 * as the bucket refills (`releaseHeld`). At most `RATE_LIMIT_MESSAGES` (one window's worth)
	 * are held; a frame past that is a flood, and the connection is closed with 1008 (its held
	 * frames are dropped, and the Close says why). So every frame is delivered or answered.
	 */
	#pacePlain(connection: Connection, frame: string | ArrayBuffer): Received | null {
		if (connection.session.identity?.role === "readonly") {
			return { kind: "close", from: connection, code: 1008, reason: "read-only: this token may not send" };
		}
		if (this.#config.rateLimitMessages === 0) return this.#receivePlain(connection, frame);
		const { held } = connection;
		let releaseInMs = 0;
		if (held.length === 0) {
			releaseInMs = tryTakeToken(connection.session.bucket, this.#config, Date.now());
			connection.save();
			if (releaseInMs === 0) return this.#receivePlain(connection, frame);
		}
		if (held.length >= this.#config.rateLimitMessages) return this.#flooding(connection);
		held.push(frame);
		this.#holding.add(connection);
		// Only the first held frame needs a release set; the ones behind it go with the same one.
		return held.length === 1 ? { kind: "held", releaseInMs } : null;
	}

	/**
	 * A plain client that closed (or dropped) with frames still held: they were accepted, so
	 * they are handed over now, at once, rather than lost with the connection. At most one
	 * window's worth, so closing early is no way around the allowance.
	 */
	takeHeld(ws: WebSocket): Received[] {
		const connection = this.#connections.get(ws);
		if (!connection || connection.held.length === 0) return [];
		this.#holding.delete(connection);
		const frames = connection.held;
		connection.held = [];
		return frames.map((frame) => this.#receivePlain(connection, frame));
	}

	/**
	 * Releases held plain frames whose tokens have come back, oldest first per connection, as
	 * what the room is to act on; says when to call again (`null`: nothing is held any more).
	 */
	releaseHeld(now: number): { released: Received[]; nextInMs: number | null } {
		const released: Received[] = [];
		let nextInMs: number | null = null;
		for (const connection of this.#holding) {
			const { held } = connection;
			while (held.length > 0) {
				const waitMs = tryTakeToken(connection.session.bucket, this.#config, now);
				if (waitMs > 0) {
					nextInMs = Math.min(nextInMs ?? waitMs, waitMs);
					break;
				}
				released.push(this.#receivePlain(connection, held.shift() as string | ArrayBuffer));
			}
			connection.save();
			if (held.length === 0) this.#holding.delete(connection);
		}
		return { released, nextInMs };
	}

	/**
	 * Rich flood control: whether this frame may go on (`go`), was refused (the client is told
	 * when to retry, with the refused send's `clientId`), or comes from a client that keeps
	 * flooding and is to be closed with 1008. The bucket is saved in the attachment, so
	 * hibernation refills nothing early. (Plain clients are paced instead: `#pacePlain`.)
	 */
	#admit(connection: Connection, clientId?: string): "go" | "refused" | "flooding" {
		if (this.#config.rateLimitMessages === 0) return "go";
		const verdict = takeToken(connection.session.bucket, this.#config, Date.now());
		if (verdict.kind === "close") return "flooding";
		connection.save();
		if (verdict.kind === "allow") return "go";
		this.#sendTo(connection, {
			type: "error",
			code: "rate_limited",
			message: `too many messages: wait ${verdict.retryAfterMs} ms`,
			retryAfterMs: verdict.retryAfterMs,
			...(clientId === undefined ? {} : { clientId }),
		});
		return "refused";
	}

	/** What a frame from a flooding client comes to. */
	#flooding(connection: Connection): Received {
		logEvent("flood_closed", { mode: connection.session.mode, limit: this.#config.rateLimitMessages });
		return { kind: "close", from: connection, code: 1008, reason: "too many messages" };
	}

	/**
	 * Plain mode, exactly as the tutorial's server: text is cut to the cap and becomes a message
	 * (sent as text to every plain socket, the sender too, and as a message event to rich ones).
	 * Binary is relayed as binary to plain sockets only (the rich protocol is text). An empty
	 * frame is a valid message for plain clients, but it is not stored or shown to rich ones.
	 */
	#receivePlain(connection: Connection, frame: string | ArrayBuffer): Received {
		const text = typeof frame === "string" ? capText(frame, this.#config.messageCap) : frame;
		if (typeof text !== "string" || text.length === 0) return { kind: "frame", frame: text, from: connection.id };
		return { kind: "send", ...connection.actor, text, clientId: null };
	}

	/**
	 * Rich mode: one JSON event per frame, answered with an error event when it is not valid.
	 * Every frame counts against flood control except a connection's one valid `hello` and
	 * `typing`, which the hub throttles itself: joining and typing never eat into a client's
	 * message allowance.
	 */
	#receiveRich(connection: Connection, frame: string | ArrayBuffer): Received | null {
		const { session } = connection;
		const { identity } = session;
		const limits = identity === null ? this.#openLimits : this.#signedLimits;
		const parsed = typeof frame === "string" ? parseClientEvent(frame, limits) : null;
		const event = parsed?.ok ? parsed.event : null;
		if (event?.type === "typing" && session.name !== null && identity?.role !== "readonly") {
			return this.#onTyping(connection);
		}
		const free = event?.type === "hello" && session.name === null;
		if (!free) {
			const admitted = this.#admit(connection, event?.type === "send" ? event.clientId : undefined);
			if (admitted !== "go") return admitted === "flooding" ? this.#flooding(connection) : null;
		}
		if (parsed === null) {
			this.#sendError(connection, "binary_unsupported", "edgechat.v1 takes JSON text frames only");
		} else if (!parsed.ok) {
			this.#sendTo(connection, parsed.error);
		} else if (parsed.event.type === "hello") {
			if (session.name === null) {
				// Named from now on (so what it sends next in this burst is taken), welcomed when the
				// room answers: it is in `joined`, and gets broadcasts, from its welcome on. In signed
				// mode the name is the token's, whatever the hello says.
				session.name = identity?.name ?? parsed.event.name;
				connection.save();
				connection.beforeWelcome = [];
				return { kind: "hello", ...connection.actor, since: parsed.event.since };
			}
			this.#sendError(connection, "already_joined", "this connection has already said hello");
		} else if (session.name === null) {
			const clientId = parsed.event.type === "send" ? parsed.event.clientId : undefined;
			this.#sendError(connection, "not_joined", "say hello (with a name) first", clientId);
		} else {
			return this.#command(connection, parsed.event);
		}
		return null;
	}

	/**
	 * What a joined rich connection asks, once parsed: what the room must act on, or `null` when
	 * the hub has answered it (a refusal). Who may do what is decided here where the session
	 * alone tells (a read-only token, a moderator's role, open mode); whose message is whose is
	 * the log's, so the room decides that.
	 */
	#command(connection: Connection, event: ClientEvent): Received | null {
		const { identity } = connection.session;
		if (event.type === "hello" || event.type === "typing") {
			// A second hello was answered above; a read-only connection's typing is refused here.
			return this.#forbid(connection, "this token is read-only: it cannot send");
		}
		const clientId = event.type === "send" ? event.clientId : undefined;
		if (identity?.role === "readonly")
			return this.#forbid(connection, "this token is read-only: it cannot send", clientId);
		if (event.type === "send") {
			// The typing throttle is not reset here: typing reaches the others at most once per
			// interval per connection, messages or not (PROTOCOL.md); clients clear it on a message.
			return { kind: "send", ...connection.actor, text: event.text, clientId: event.clientId };
		}
		if (identity === null) return this.#forbid(connection, `'${event.type}' needs signed identity (AUTH_SECRET)`);
		switch (event.type) {
			case "edit":
				return { kind: "edit", ...connection.actor, id: event.id, text: event.text };
			case "delete":
				return { kind: "delete", ...connection.actor, id: event.id };
			default:
				if (identity.role !== "moderator") return this.#forbid(connection, `only moderators may ${event.type}`);
				return event.type === "kick"
					? { kind: "kick", from: connection.id, by: identity.name, userId: event.userId }
					: { kind: "ban", from: connection.id, by: identity.name, userId: event.userId, seconds: event.seconds };
		}
	}

	/** Refuses what a connection asked with `forbidden`. */
	#forbid(connection: Connection, message: string, clientId?: string): null {
		this.#sendTo(connection, { type: "error", code: "forbidden", message, ...(clientId ? { clientId } : {}) });
		return null;
	}

	/** Someone is typing: the room tells everyone else, at most once per interval per connection. */
	#onTyping(connection: Connection): Received | null {
		const now = Date.now();
		if (now - connection.lastTypingAt < TYPING_INTERVAL_MS) return null;
		connection.lastTypingAt = now;
		return { kind: "typing", ...connection.actor };
	}

	// -- fan-out ---------------------------------------------------------------------------------

	/**
	 * Fans out the outcome of a burst, in order. Events for rich connections wait in the outbox
	 * for `flush`; plain frames go out at once (one frame per message is plain mode's contract).
	 */
	deliver(deliveries: readonly Delivery[]): void {
		for (const delivery of deliveries) {
			switch (delivery.kind) {
				case "message":
					this.#broadcast(eventOf(delivery.message), plainTextOf(delivery.message));
					break;
				case "frame":
					this.#sendToPlain(delivery.frame);
					break;
				case "echo": {
					const connection = this.#connections.byId(delivery.to);
					if (connection) this.#sendTo(connection, { type: "message", ...delivery.message });
					break;
				}
				case "refused": {
					const connection = this.#connections.byId(delivery.to);
					if (connection) this.#refuseUnstored(connection, delivery.clientId);
					break;
				}
				case "error": {
					const connection = this.#connections.byId(delivery.to);
					if (connection) this.#sendTo(connection, delivery.error);
					break;
				}
				case "remove":
					if (delivery.notice) this.#broadcast(delivery.notice, null);
					this.#closeUser(delivery.userId, delivery.code, delivery.reason);
					break;
				case "join":
				case "leave": {
					const { kind: type, name, userId } = delivery;
					this.#broadcast(userId === null ? { type, name } : { type, name, userId }, null);
					break;
				}
				case "typing":
					this.#broadcast({ type: "typing", name: delivery.name }, null, this.#connections.byId(delivery.from));
					break;
				case "welcome":
					this.#welcome(delivery);
					break;
			}
		}
	}

	/**
	 * A rich client is welcomed: it gets the room as it was when it said hello (members, and the
	 * history it asked for), then the answers to what it sent meanwhile, and every broadcast from
	 * here on.
	 */
	#welcome(delivery: Extract<Delivery, { kind: "welcome" }>): void {
		const connection = this.#connections.byId(delivery.to);
		if (!connection) return;
		this.#connections.joined.add(connection);
		const welcome: WelcomeEvent = {
			type: "welcome",
			name: delivery.name,
			members: delivery.members,
			memberCount: delivery.memberCount,
			history: delivery.replay.messages,
			gap: delivery.replay.gap,
			latestId: delivery.replay.latestId,
			messageCap: this.#config.messageCap,
		};
		if (delivery.userId !== null && delivery.role !== null) {
			welcome.userId = delivery.userId;
			welcome.role = delivery.role;
		}
		const waiting = connection.beforeWelcome ?? [];
		connection.beforeWelcome = null;
		this.#sendTo(connection, welcome);
		for (const frame of waiting) this.#outbox.unicast(connection, frame);
	}

	/** Whether events wait for a `flush`. */
	get hasQueued(): boolean {
		return !this.#outbox.isEmpty;
	}

	/**
	 * Sends what waits: one frame per rich recipient, after cutting off those that have fallen
	 * too far behind (`#cutOffSlow`). Those that cannot be sent to leave. Either may queue a
	 * `leave` event for the rest (`hasQueued` tells).
	 */
	flush(): void {
		this.#plainChecked = false;
		this.#cutOffSlow(this.#outbox.recipients());
		for (const connection of this.#outbox.flush()) this.#leave(connection);
	}

	/**
	 * The slow-consumer policy. A peer that stops reading (a stalled tab, a phone on a dead
	 * network that has not timed out yet) makes every frame sent to it wait in the object's
	 * memory, and an object past its memory limit is reset with all its sockets (docs/platform.md).
	 * So a connection that still has more than `MAX_BUFFERED_BYTES` waiting from earlier bursts
	 * when a new burst is about to be sent to it is closed with 1013, without this burst: its
	 * backlog stops growing and everyone else carries on. A rich client reconnects and resumes
	 * from the last message it saw (PROTOCOL.md, "Closing").
	 *
	 * The check runs before the burst's frames are handed over, not after: a reader that keeps
	 * up has taken the earlier bursts by then, however large this one is. The runtime reports
	 * `bufferedAmount` for hibernatable sockets too; it is read once per recipient per burst.
	 */
	#cutOffSlow(connections: Iterable<Connection>): void {
		const max = this.#config.maxBufferedBytes;
		if (max === 0) return;
		for (const connection of connections) {
			const buffered = connection.ws.bufferedAmount;
			if (buffered <= max) continue;
			logEvent("slow_consumer", { bufferedBytes: buffered, limit: max, mode: connection.session.mode });
			this.#leave(connection);
			closeSocket(connection.ws, 1013, `too slow: more than ${max} bytes unread`);
		}
	}

	/**
	 * Tells a sender its message was not stored: a rich client gets `server_error` with the
	 * message's clientId (it may resend it); a plain client cannot be told in-band, so it is
	 * closed with 1011.
	 */
	#refuseUnstored(connection: Connection, clientId: string | null): void {
		if (connection.session.mode === "plain") {
			this.#close(connection, 1011, "could not store the message");
			return;
		}
		// An edit or a delete has no clientId: it is refused all the same, without one.
		this.#sendTo(connection, {
			type: "error",
			code: "server_error",
			message: "the room could not store that; retry later",
			...(clientId === null ? {} : { clientId }),
		});
	}

	/**
	 * Sends one event to every joined rich connection (queued in the outbox, encoded once) and,
	 * when `plainText` is given, that text to every plain socket at once.
	 */
	#broadcast(event: SingleServerEvent, plainText: string | null, except?: Connection): void {
		const { joined } = this.#connections;
		if (joined.size > 0) this.#outbox.broadcast(JSON.stringify(event), joined, except);
		if (plainText !== null) this.#sendToPlain(plainText, except);
	}

	/**
	 * Sends one frame to every plain socket (but `except`), the same string or buffer to each.
	 * Sockets that can no longer be sent to leave after the loop, since leaving may itself
	 * broadcast a leave event.
	 */
	#sendToPlain(frame: string | ArrayBuffer, except?: Connection): void {
		if (!this.#plainChecked) {
			this.#plainChecked = true;
			this.#cutOffSlow(this.#connections.plain);
		}
		const failed: Connection[] = [];
		for (const connection of this.#connections.plain) {
			if (connection !== except && !trySend(connection.ws, frame)) failed.push(connection);
		}
		for (const connection of failed) this.#leave(connection);
	}

	/** Sends one event to one rich connection, after whatever is already queued for it. */
	#sendTo(connection: Connection, event: SingleServerEvent): void {
		const frame = JSON.stringify(event);
		if (connection.beforeWelcome) connection.beforeWelcome.push(frame);
		else this.#outbox.unicast(connection, frame);
	}

	/** Sends one error event; a refused `send` carries its `clientId` (PROTOCOL.md). */
	#sendError(connection: Connection, code: ErrorCode, message: string, clientId?: string): void {
		this.#sendTo(connection, { type: "error", code, message, ...(clientId === undefined ? {} : { clientId }) });
	}

	// -- close -----------------------------------------------------------------------------------

	/**
	 * Ends one connection, whether the hub closes it (with a reason) or answers the client's own
	 * Close: what waits for it goes out first, then it leaves, then the Close. The room ends the
	 * burst before calling this, so the burst's part for it is already waiting.
	 */
	close(ws: WebSocket, code: number, reason: string): void {
		const connection = this.#connections.get(ws);
		if (connection) this.#close(connection, code, reason);
		else closeSocket(ws, code, reason);
	}

	#close(connection: Connection, code: number, reason: string): void {
		// Answers held for a welcome that will not come now go out before the Close.
		for (const frame of connection.beforeWelcome ?? []) this.#outbox.unicast(connection, frame);
		connection.beforeWelcome = null;
		this.#outbox.flushOne(connection);
		this.#leave(connection);
		closeSocket(connection.ws, code, reason);
	}

	/**
	 * Stops reading a connection that is to be closed once what it is owed has come (its owner
	 * decides when; a shard waits for the room's answer to what it sent). Returns its id.
	 */
	stopReading(ws: WebSocket): string | undefined {
		const connection = this.#connections.get(ws);
		if (!connection) return undefined;
		connection.closing = true;
		// Plain frames still held go with the connection, as when it is closed at once (a client's
		// own Close hands them over first: HubHost.webSocketClose).
		this.#holding.delete(connection);
		connection.held = [];
		return connection.id;
	}

	/** Closes the connection with this id, if the hub holds it (the room could not take its hello). */
	closeById(id: ConnectionId, code: number, reason: string): void {
		const connection = this.#connections.byId(id);
		if (connection) this.#close(connection, code, reason);
	}

	/** Closes every connection of a user (a moderator removed it), each after what waits for it. */
	#closeUser(userId: string, code: number, reason: string): void {
		for (const connection of [...this.#connections]) {
			if (connection.session.identity?.userId === userId) this.#close(connection, code, reason);
		}
	}

	/** Closes every connection, each after what waits for it (they are to reconnect and resume). */
	closeAll(code: number, reason: string): void {
		for (const connection of [...this.#connections]) this.#close(connection, code, reason);
	}

	/** The socket failed or is gone: it leaves, without a close handshake. */
	leave(ws: WebSocket): void {
		const connection = this.#connections.get(ws);
		if (connection) this.#leave(connection);
	}

	/** Forgets a connection; a named one is a departure for the room to hear of. Idempotent. */
	#leave(connection: Connection): void {
		if (!this.#connections.delete(connection)) return;
		this.#outbox.forget(connection);
		this.#holding.delete(connection);
		const { name } = connection.session;
		if (name !== null) this.#presenceChanges.push({ kind: "depart", ...connection.actor });
	}

	/**
	 * The plain connections that arrived and the named ones that went (closed, failed, cut off,
	 * swept) since the last call, in order. A rich connection's arrival is its `hello`.
	 */
	takePresenceChanges(): Submission[] {
		const changes = this.#presenceChanges;
		this.#presenceChanges = [];
		return changes;
	}

	/**
	 * The liveness sweep (src/hub/liveness.ts): closes every rich connection silent for longer
	 * than the heartbeat timeout at `now` with 1001. Returns how many were closed.
	 */
	sweepSilent(now: number): number {
		let closed = 0;
		for (const connection of this.#connections) {
			const lastPong = this.#state.getWebSocketAutoResponseTimestamp(connection.ws)?.getTime() ?? 0;
			if (!this.#liveness.isSilent(connection, lastPong, now)) continue;
			this.#close(connection, 1001, "no heartbeat");
			closed++;
		}
		return closed;
	}

	// -- inspection ------------------------------------------------------------------------------

	/** How many connections the hub holds. */
	get size(): number {
		return this.#connections.size;
	}

	/** The members of this hub's connections, with how many connections each has (presence's input). */
	members(): MemberCounts {
		const counts = new Map<string, [key: string, name: string, connections: number]>();
		for (const connection of this.#connections) {
			if (connection.session.name === null) continue;
			const key = memberKeyOf(connection.actor);
			const count = counts.get(key);
			if (count) count[2]++;
			else counts.set(key, [key, connection.session.name, 1]);
		}
		return [...counts.values()];
	}
}
