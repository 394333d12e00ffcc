/**
 * The hub: the connections one object holds, and their lifecycle. It accepts sockets, hands
 * every frame to intake (src/hub/intake.ts: size, protocol, flood control) or plain pacing
 * (src/hub/plain-pacing.ts), hands the deliveries it is given to fan-out (src/hub/fanout.ts:
 * frames, coalescing, slow readers), closes connections when asked or when fan-out says, and
 * finds silent peers (src/hub/liveness.ts). It knows nothing of SQL or of presence: what to
 * store and in which order, and who is in the room, are the room's business (a room may span
 * several objects, each with a hub: src/shard/), and so is when a burst ends.
 *
 * Nothing here calls back into its owner. A frame that needs the room comes back from `receive`
 * as a `Received` to act on, and connections that came and went from `takePresenceChanges`; the
 * owner hands the outcome back with `deliver` and says when to send with `flush`.
 */
import type { Config } from "../deployment/config.ts";
import type { Close } from "../wire/close-codes.ts";
import { closeFor } from "../wire/close-codes.ts";
import { holderKey, holderOf, type Identity } from "../wire/identity.ts";
import { PLAIN_NAME } from "../wire/limits.ts";
import type { ConnectionId, Delivery, MemberCounts, Submission } from "../wire/rpc.ts";
import type { AlarmStorage } from "./alarm.ts";
import { Connection, Connections, type Session } from "./connection.ts";
import { Fanout } from "./fanout.ts";
import { newBucket } from "./flood-control.ts";
import { Intake, type Received } from "./intake.ts";
import { Liveness } from "./liveness.ts";
import { PlainPacing } from "./plain-pacing.ts";
import { closeSocket } from "./sockets.ts";

export type { Received } from "./intake.ts";

/** The parts of the Durable Object's state a hub uses: its hibernatable sockets and its alarm. */
export interface HubState {
	acceptWebSocket(ws: WebSocket, tags?: string[]): void;
	getWebSockets(tag?: string): WebSocket[];
	getWebSocketAutoResponseTimestamp(ws: WebSocket): Date | null;
	readonly storage: AlarmStorage;
}

/** The connections of one object, and what they say to each other. */
export class Hub {
	readonly #config: Config;
	readonly #state: HubState;
	readonly #connections = new Connections();
	readonly #fanout: Fanout;
	readonly #intake: Intake;
	readonly #pacing: PlainPacing;
	readonly #liveness: Liveness;
	/** Connections whose session changed in this burst, saved at its end (`flush`). */
	readonly #unsaved = new Set<Connection>();
	/** Connections whose close is decided, waiting for what they are owed (`closeAnswered`). */
	readonly #closing = new Set<Connection>();
	/** Named connections that came or went since the owner last asked (`takePresenceChanges`). */
	#presenceChanges: Submission[] = [];

	/**
	 * Rebuilds the hub from the sockets the runtime kept while the object was away: each carries
	 * its session as its attachment, so this runs once per wake, never per message.
	 */
	constructor(config: Config, state: HubState) {
		this.#config = config;
		this.#state = state;
		this.#fanout = new Fanout(config, this.#connections);
		this.#intake = new Intake(config, this.#fanout);
		this.#pacing = new PlainPacing(config);
		this.#liveness = new Liveness(state.storage, config.heartbeatTimeoutSeconds, config.plainIdleTimeoutSeconds);
		for (const ws of state.getWebSockets()) {
			const connection = Connection.restore(ws, this.#unsaved);
			if (connection) this.#connections.add(connection);
		}
	}

	// -- connect ---------------------------------------------------------------------------------

	/**
	 * Takes on a new server-side socket (hibernatable), its id starting with `idPrefix` (a shard's
	 * number, src/wire/rpc.ts `shardOf`), acting as `identity` in signed mode. A plain client is
	 * present (as `guest`, or its token's name) from the start, so its arrival is a presence
	 * change for the room; a rich one is present once it says hello.
	 */
	accept(
		ws: WebSocket,
		mode: Session["mode"],
		idPrefix = "",
		identity: Identity | null = null,
		address: string | null = null,
	): Connection {
		const holder = holderOf(identity, address);
		const tag = holder && holderKey(holder);
		this.#state.acceptWebSocket(ws, tag === null ? [] : [tag]);
		const now = Date.now();
		const connection = new Connection(
			ws,
			{
				id: `${idPrefix}${crypto.randomUUID()}`,
				mode,
				name: mode === "plain" ? (identity?.name ?? PLAIN_NAME) : null,
				identity,
				...(identity === null && address !== null ? { address } : {}),
				connectedAt: now,
				bucket: newBucket(this.#config, now),
			},
			this.#unsaved,
		);
		connection.save();
		this.#connections.add(connection);
		if (connection.name !== null) this.#presenceChanges.push({ kind: "arrive", ...connection.actor });
		return connection;
	}

	/** The liveness alarm has fired, or was dropped with the object's storage (so it is no longer pending). */
	alarmFired(): void {
		this.#liveness.alarmFired();
	}

	/** Keeps the liveness sweep scheduled while connections it watches exist (src/hub/liveness.ts). */
	keepSweeping(): Promise<void> {
		return this.#liveness.keepSweeping(this.#connections.anyRich, this.#connections.plain.size > 0);
	}

	// -- message ---------------------------------------------------------------------------------

	/**
	 * A frame from one client: size-checked, then read by its mode. Whatever it holds, only its
	 * sender is answered or closed. A closing connection's frames are not read.
	 */
	receive(ws: WebSocket, frame: string | ArrayBuffer): Received | null {
		const connection = this.#connections.get(ws);
		if (!connection || connection.closing) return null;
		connection.heard(Date.now());
		const tooBig = this.#intake.tooBig(connection, frame);
		if (tooBig) return tooBig;
		return connection.mode === "rich" ? this.#intake.rich(connection, frame) : this.#pacing.receive(connection, frame);
	}

	/** Whether a rich connection is still held, not closing, and has not said hello. */
	awaitingHello(ws: WebSocket): boolean {
		const connection = this.#connections.get(ws);
		return connection !== undefined && connection.mode === "rich" && connection.name === null && !connection.closing;
	}

	/** Plain frames a closing or departing client still had held: handed over now (src/hub/plain-pacing.ts). */
	takeHeld(ws: WebSocket): Received[] {
		const connection = this.#connections.get(ws);
		return connection ? this.#pacing.takeHeld(connection) : [];
	}

	/** Releases held plain frames whose allowance has come back; says when to call again. */
	releaseHeld(now: number): { released: Received[]; nextInMs: number | null } {
		return this.#pacing.release(now);
	}

	// -- fan-out ---------------------------------------------------------------------------------

	/** Fans out the outcome of a burst, in order (src/hub/fanout.ts); the closes it asks for happen now. */
	deliver(deliveries: readonly Delivery[]): void {
		this.#fanout.deliver(deliveries);
		this.#settleFanout();
	}

	/** Whether events wait for a `flush`. */
	get hasQueued(): boolean {
		return this.#fanout.hasQueued;
	}

	/**
	 * Sends what waits: one frame per rich recipient, after cutting off those that have fallen
	 * too far behind. Sessions changed in this burst (flood-control buckets) are saved here,
	 * once per burst instead of once per frame; nothing can evict the object between the frame
	 * and this flush (the burst's timer is pending).
	 */
	flush(): void {
		this.#fanout.flush();
		this.#settleFanout();
		for (const connection of this.#unsaved) connection.save();
	}

	/**
	 * What fan-out asked: closes after what waits (removals, a plain message not stored), slow
	 * readers cut off (1013, without what waits), and sockets found gone. Leaving may itself
	 * queue a `leave` for the others (`hasQueued`).
	 */
	#settleFanout(): void {
		const { closes, slow, gone } = this.#fanout.takeOutcome();
		for (const { connection, close } of closes) this.#close(connection, close);
		for (const connection of slow) {
			this.#leave(connection);
			const { code, reason } = closeFor("tooSlow", this.#config.maxBufferedBytes);
			closeSocket(connection.ws, code, reason);
		}
		for (const connection of gone) this.#leave(connection);
	}

	// -- close -----------------------------------------------------------------------------------

	/**
	 * Decides to close a connection with `close` once what it is owed has gone: its frames are no
	 * longer read, plain frames it still had held go with it, and the first close decided stands.
	 * The owner closes it with `closeAnswered` when the room's answers to what it sent have been
	 * delivered (the room's own object: at the end of the burst; a shard: once the room's push
	 * that answers its last batch has come). Returns it, or `undefined` if the hub does not hold
	 * the socket (which is then closed at once).
	 */
	startClosing(ws: WebSocket, close: Close): Connection | undefined {
		const connection = this.#connections.get(ws);
		if (!connection) {
			closeSocket(ws, close.code, close.reason);
			return undefined;
		}
		if (connection.startClosing(close)) {
			this.#pacing.forget(connection);
			this.#closing.add(connection);
		}
		return connection;
	}

	/** Closes the closing connections whose last batch (a shard's number; 0 on the room's object) is at most `batch`. */
	closeAnswered(batch: number): void {
		for (const connection of this.#closing) {
			if (connection.lastBatch <= batch) this.#close(connection, connection.closing as Close);
		}
	}

	/** Closes one closing connection now, answered or not (a shard waited long enough). */
	closeNow(connection: Connection): void {
		if (this.#closing.has(connection)) this.#close(connection, connection.closing as Close);
	}

	/** How many connections wait to be closed. */
	get closingCount(): number {
		return this.#closing.size;
	}

	/** Records that the room's answer to what connection `id` sent comes with the outcome of batch `batch` (shards). */
	awaitAnswer(id: ConnectionId, batch: number): void {
		this.#connections.byId(id)?.awaitAnswer(batch);
	}

	/** Closes the connection with this id, if the hub holds it (the room could not take its hello). */
	closeById(id: ConnectionId, close: Close): void {
		const connection = this.#connections.byId(id);
		if (connection) this.#close(connection, close);
	}

	/** Closes every connection, each after what waits for it (they are to reconnect and resume). */
	closeAll(close: Close): void {
		for (const connection of [...this.#connections]) this.#close(connection, close);
	}

	/** Ends one connection: what waits for it goes out first, then it leaves, then the Close. */
	#close(connection: Connection, close: Close): void {
		this.#fanout.flushOne(connection);
		this.#leave(connection);
		closeSocket(connection.ws, close.code, close.reason);
	}

	/** The socket failed or is gone: it leaves, without a close handshake. */
	leave(ws: WebSocket): void {
		const connection = this.#connections.get(ws);
		if (connection) this.#leave(connection);
	}

	/** Forgets a connection; a named one is a departure for the room to hear of. Idempotent. */
	#leave(connection: Connection): void {
		if (!this.#connections.delete(connection)) return;
		this.#fanout.forget(connection);
		this.#pacing.forget(connection);
		this.#closing.delete(connection);
		this.#unsaved.delete(connection);
		if (connection.name !== null) this.#presenceChanges.push({ kind: "depart", ...connection.actor });
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
	 * The liveness sweep (src/hub/liveness.ts): closes (1001) every rich connection silent past the
	 * heartbeat timeout and every plain one idle past its own; how many.
	 */
	sweepSilent(now: number): number {
		let closed = 0;
		for (const connection of [...this.#connections]) {
			const lastPong = this.#state.getWebSocketAutoResponseTimestamp(connection.ws)?.getTime() ?? 0;
			if (!this.#liveness.isSilent(connection, lastPong, now)) continue;
			const close =
				connection.mode === "rich" ? closeFor("noHeartbeat") : closeFor("idle", this.#config.plainIdleTimeoutSeconds);
			this.#close(connection, close);
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
		return this.#connections.memberCounts();
	}
}
