/**
 * One record per connection a hub holds: the socket, what survives hibernation with it (its
 * session, kept as the socket's attachment), and what only matters while the object is in
 * memory (typing throttle, last frame, held plain frames, answers waiting for its welcome, a
 * close waiting for what it is owed). Its state is private behind methods, so what changes it
 * is named; `Connections` holds them all and the groups the hub fans out to.
 */
import type { Close } from "../wire/close-codes.ts";
import type { Identity } from "../wire/identity.ts";
import {
	FRAME_BUCKET,
	FRAME_STRIKES,
	FRAME_UNIT_BYTES,
	FRAME_UNITS_PER_SECOND,
	HISTORY_BUCKET,
	HISTORY_PER_SECOND,
} from "../wire/limits.ts";
import { type Actor, type MemberCounts, memberKeyOf } from "../wire/rpc.ts";
import { type BucketState, fullBucket, takeTokens } from "./flood-control.ts";

/** What a connection remembers across hibernation and eviction (the socket's attachment). */
export interface Session {
	/** Names this connection in deliveries (`Delivery.to`), stable across hibernation. */
	readonly id: string;
	/** `plain`: the tutorial's text relay; `rich`: the edgechat.v1 JSON protocol. */
	readonly mode: "plain" | "rich";
	/** Display name; `null` for a rich connection that has not said `hello` yet. */
	name: string | null;
	/** True from its `hello` until its welcome is delivered (absent otherwise). */
	awaitingWelcome?: true;
	/** Signed mode: who the token says it is (`null` in open mode). */
	readonly identity: Identity | null;
	/** Open mode: the client's address, when the request said (`CF-Connecting-IP`). */
	readonly address?: string;
	/** When the connection was accepted, in ms since the epoch. */
	readonly connectedAt: number;
	/** Flood control for this connection (its `updatedAt` is also its last message's time). */
	readonly bucket: BucketState;
}

/** One connection held by a hub. */
export class Connection {
	/** The server side of the socket. */
	readonly ws: WebSocket;
	readonly #session: Session;
	/** Where it goes when its session changes, to be saved at the end of the burst (the hub's). */
	readonly #unsaved: Set<Connection>;
	/** When it last sent a frame (ms; in memory: after eviction the bucket and pongs tell). */
	#lastFrameAt = 0;
	/** When its last typing notice was passed on (ms; typing is ephemeral, so memory only). */
	#lastTypingAt = 0;
	/** When its last read position was passed on (ms; memory only: the next one is taken after a wake). */
	#lastReadAt = 0;
	/** Its bucket of history pages (memory only: a wake refills it). */
	#pages = fullBucket(HISTORY_BUCKET);
	/**
	 * Its budget of frames, and how many frames in a row it sent over it (memory only: an object
	 * is evicted only after seconds without an event, by which time the budget has refilled).
	 */
	#frames = fullBucket(FRAME_BUCKET);
	#frameStrikes = 0;
	/** A plain client's frames over its allowance, oldest first (the release timer keeps the object awake). */
	#held: (string | ArrayBuffer)[] = [];
	/** While it waits for its welcome: the answers to what it sent meanwhile, to follow the welcome. */
	#beforeWelcome: string[] | null = null;
	/** The close it waits for, once its owner has decided it (its frames are no longer read). */
	#closing: Close | null = null;
	/** A shard's number of the last batch that carried something from it needing an answer (0: none). */
	#lastBatch = 0;

	/** Wraps a socket and its session (new, or read back on wake); `unsaved` collects changed ones, saved once per burst. */
	constructor(ws: WebSocket, session: Session, unsaved: Set<Connection>) {
		this.ws = ws;
		this.#session = session;
		this.#unsaved = unsaved;
		// Restored while its welcome was still to come (the object was evicted meanwhile): it still waits.
		if (session.awaitingWelcome) this.#beforeWelcome = [];
	}

	/** Reads the session a socket carries; `null` for a socket the room never took on. */
	static restore(ws: WebSocket, unsaved: Set<Connection>): Connection | null {
		const session = ws.deserializeAttachment() as Session | null;
		return session ? new Connection(ws, session, unsaved) : null;
	}

	/** Its id, for addressing deliveries to it. */
	get id(): string {
		return this.#session.id;
	}

	get mode(): Session["mode"] {
		return this.#session.mode;
	}

	/** The name it shows; `null` before a rich connection's hello. */
	get name(): string | null {
		return this.#session.name;
	}

	get identity(): Identity | null {
		return this.#session.identity;
	}

	get connectedAt(): number {
		return this.#session.connectedAt;
	}

	/** Its flood-control bucket; whoever changes it calls `changed()`. */
	get bucket(): BucketState {
		return this.#session.bucket;
	}

	/** Who it is, for what it submits to the room (once it has a name). */
	get actor(): Actor {
		const { id, name, identity, address } = this.#session;
		const actor = { from: id, name: name ?? "", userId: identity?.userId ?? null, role: identity?.role ?? null };
		return address === undefined ? actor : { ...actor, address };
	}

	// -- the session, saved once per burst --------------------------------------------------------

	/** The session changed (its bucket, say): it is written at the end of the burst (`save`). */
	changed(): void {
		this.#unsaved.add(this);
	}

	/** Writes the session to the socket's attachment, so hibernation keeps it. */
	save(): void {
		this.#unsaved.delete(this);
		this.ws.serializeAttachment(this.#session);
	}

	// -- joining ---------------------------------------------------------------------------------

	/** Its hello: named from now on, and waiting for its welcome (saved at once: it must survive eviction). */
	join(name: string): void {
		this.#session.name = name;
		this.#session.awaitingWelcome = true;
		this.#beforeWelcome = [];
		this.save();
	}

	/** Whether it said hello and its welcome has not come yet. */
	get awaitingWelcome(): boolean {
		return this.#beforeWelcome !== null;
	}

	/** Keeps an answer for after its welcome. */
	holdForWelcome(frame: string): void {
		this.#beforeWelcome?.push(frame);
	}

	/** Its welcome has come (or never will): returns the answers kept for after it. */
	welcomed(): string[] {
		const waiting = this.#beforeWelcome ?? [];
		this.#beforeWelcome = null;
		if (this.#session.awaitingWelcome) {
			delete this.#session.awaitingWelcome;
			this.changed();
		}
		return waiting;
	}

	// -- what it sends ---------------------------------------------------------------------------

	/** It sent a frame at `now`. */
	heard(now: number): void {
		this.#lastFrameAt = now;
	}

	/** When it last sent a frame (ms; 0 since this instance started). */
	get lastFrameAt(): number {
		return this.#lastFrameAt;
	}

	/** Whether a typing notice of it goes on at `now` (at most once per `interval`); if so, counted. */
	mayType(now: number, interval: number): boolean {
		if (now - this.#lastTypingAt < interval) return false;
		this.#lastTypingAt = now;
		return true;
	}

	/** Whether a read position of it goes on at `now` (at most once per `interval`); if so, counted. */
	mayRead(now: number, interval: number): boolean {
		if (now - this.#lastReadAt < interval) return false;
		this.#lastReadAt = now;
		return true;
	}

	/**
	 * Charges a frame of `size` (UTF-16 units of its text, or bytes) to its budget at `now`
	 * (src/wire/limits.ts `FRAME_UNIT_BYTES`): `0` when it may be read, how many ms until the budget
	 * allows it, or `flooding` after `FRAME_STRIKES` frames in a row over it. No frame costs more
	 * than the whole budget, so one as large as `MAX_FRAME_BYTES` allows always gets through in time.
	 */
	chargeFrame(size: number, now: number): number | "flooding" {
		const cost = Math.min(FRAME_BUCKET, Math.ceil(Math.max(1, size) / FRAME_UNIT_BYTES));
		const wait = takeTokens(this.#frames, FRAME_BUCKET, FRAME_UNITS_PER_SECOND, now, cost);
		if (wait === 0) {
			this.#frameStrikes = 0;
			return 0;
		}
		return ++this.#frameStrikes >= FRAME_STRIKES ? "flooding" : wait;
	}

	/** Takes a history page at `now` (`HISTORY_BUCKET` at once, then `HISTORY_PER_SECOND`): 0, or ms until one is there. */
	takePage(now: number): number {
		return takeTokens(this.#pages, HISTORY_BUCKET, HISTORY_PER_SECOND, now);
	}

	/** How many plain frames are held. */
	get heldCount(): number {
		return this.#held.length;
	}

	/** Holds a plain frame over its allowance, behind those held before it. */
	hold(frame: string | ArrayBuffer): void {
		this.#held.push(frame);
	}

	/** The oldest held frame, taken. */
	nextHeld(): string | ArrayBuffer | undefined {
		return this.#held.shift();
	}

	/** Every held frame, taken. */
	takeHeld(): (string | ArrayBuffer)[] {
		const held = this.#held;
		this.#held = [];
		return held;
	}

	// -- closing ---------------------------------------------------------------------------------

	/** The close it waits for (the first decided stands), or `null`. */
	get closing(): Close | null {
		return this.#closing;
	}

	/** Its owner decided to close it with `close` once it has what it is owed; false if one was decided already. */
	startClosing(close: Close): boolean {
		if (this.#closing) return false;
		this.#closing = close;
		return true;
	}

	/** The last batch (a shard's number) carrying something from it that the room answers. */
	get lastBatch(): number {
		return this.#lastBatch;
	}

	/** Something it sent goes to the room in batch `batch` (a shard's number); its answer comes with that batch's. */
	awaitAnswer(batch: number): void {
		this.#lastBatch = Math.max(this.#lastBatch, batch);
	}
}

/**
 * Every connection of a hub, found by socket or by id, and the two groups fan-out walks: plain
 * sockets (raw text) and joined rich ones (JSON events). Sets in memory, rebuilt once when the
 * object wakes, so no message ever enumerates the runtime's sockets.
 */
export class Connections {
	readonly #bySocket = new Map<WebSocket, Connection>();
	readonly #byId = new Map<string, Connection>();
	/** Plain connections: they receive raw text (and binary). */
	readonly plain = new Set<Connection>();
	/** Rich connections that have been welcomed: they receive JSON events. */
	readonly joined = new Set<Connection>();

	/** How many connections there are. */
	get size(): number {
		return this.#bySocket.size;
	}

	/** Whether any rich connection (joined or not) is held; counted without a walk. */
	get anyRich(): boolean {
		return this.#bySocket.size > this.plain.size;
	}

	/** The connection of a socket, if the hub holds it. */
	get(ws: WebSocket): Connection | undefined {
		return this.#bySocket.get(ws);
	}

	/** The connection with an id, if the hub still holds it. */
	byId(id: string): Connection | undefined {
		return this.#byId.get(id);
	}

	/** Starts holding a connection (on accept, and on wake for each surviving socket). */
	add(connection: Connection): void {
		this.#bySocket.set(connection.ws, connection);
		this.#byId.set(connection.id, connection);
		if (connection.mode === "plain") this.plain.add(connection);
		else if (connection.name !== null && !connection.awaitingWelcome) this.joined.add(connection);
	}

	/** Stops holding a connection. Returns false if it was not held. */
	delete(connection: Connection): boolean {
		if (!this.#bySocket.delete(connection.ws)) return false;
		this.#byId.delete(connection.id);
		this.plain.delete(connection);
		this.joined.delete(connection);
		return true;
	}

	/** The members of these connections, with how many connections each has (presence's input). */
	memberCounts(): MemberCounts {
		const counts = new Map<string, [key: string, name: string, connections: number]>();
		for (const connection of this.#bySocket.values()) {
			if (connection.name === null) continue;
			const key = memberKeyOf(connection.actor);
			const count = counts.get(key);
			if (count) count[2]++;
			else counts.set(key, [key, connection.name, 1]);
		}
		return [...counts.values()];
	}

	/** Every connection, in the order they were added. */
	[Symbol.iterator](): IterableIterator<Connection> {
		return this.#bySocket.values();
	}
}
