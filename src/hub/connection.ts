/**
 * One record per connection a hub holds: the socket, what survives hibernation with it (its
 * session, kept as the socket's attachment), and what only matters while the object is in
 * memory (events waiting in the outbox, typing throttle, last frame). `Connections` holds them
 * all and the groups the hub fans out to.
 */
import type { Identity } from "../auth/identity.ts";
import type { Actor } from "../delivery.ts";
import type { BucketState } from "./flood-control.ts";

/** What a connection remembers across hibernation and eviction (the socket's attachment). */
export interface Session {
	/** Names this connection in deliveries (`Delivery.to`), stable across hibernation. */
	readonly id: string;
	/** `plain`: the tutorial's text relay; `rich`: the edgechat.v1 JSON protocol. */
	readonly mode: "plain" | "rich";
	/** Display name; `null` for a rich connection that has not said `hello` yet. */
	name: string | null;
	/** Signed mode: who the token says it is (`null` in open mode). */
	readonly identity: Identity | null;
	/** When the connection was accepted, in ms since the epoch. */
	readonly connectedAt: number;
	/** Flood control for this connection (its `updatedAt` is also its last message's time). */
	readonly bucket: BucketState;
}

/** One connection held by a hub. */
export class Connection {
	/** The server side of the socket. */
	readonly ws: WebSocket;
	/** Its state that outlives the object's memory (saved with {@link save}). */
	readonly session: Session;
	/** Encoded events waiting for the end of the burst (the outbox sends them as one frame). */
	outgoing: string[] = [];
	/** When it last sent a frame (ms; in memory: after eviction the bucket and pongs tell). */
	lastFrameAt = 0;
	/** When its last typing notice was passed on (ms; typing is ephemeral, so memory only). */
	lastTypingAt = 0;
	/**
	 * A plain client's frames over its allowance, oldest first, held until tokens come back. In
	 * memory only: the release timer keeps the object from hibernating while any are held.
	 */
	held: (string | ArrayBuffer)[] = [];
	/**
	 * While its hello waits for the room's welcome: the answers to what it sent after the hello
	 * (refusals the hub gives at once), kept so that they reach it after the welcome, in order.
	 * `null` when it is not waiting.
	 */
	beforeWelcome: string[] | null = null;
	/** Whether it is being closed: its owner waits to send it what it is owed first; its frames are not read. */
	closing = false;

	/** Wraps a socket and its session (new, or read back from the attachment on wake). */
	constructor(ws: WebSocket, session: Session) {
		this.ws = ws;
		this.session = session;
	}

	/** Reads the session a socket carries; `null` for a socket the room never took on. */
	static restore(ws: WebSocket): Connection | null {
		const session = ws.deserializeAttachment() as Session | null;
		return session ? new Connection(ws, session) : null;
	}

	/** Its id, for addressing deliveries to it. */
	get id(): string {
		return this.session.id;
	}

	/** Who it is, for what it submits to the room (once it has a name). */
	get actor(): Actor {
		const { id, name, identity } = this.session;
		return { from: id, name: name ?? "", userId: identity?.userId ?? null, role: identity?.role ?? null };
	}

	/** Writes the session to the socket's attachment, so hibernation keeps it. */
	save(): void {
		this.ws.serializeAttachment(this.session);
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
	/** Rich connections that have said `hello`: they receive JSON events. */
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
		if (connection.session.mode === "plain") this.plain.add(connection);
		else if (connection.session.name !== null) this.joined.add(connection);
	}

	/** Stops holding a connection. Returns false if it was not held. */
	delete(connection: Connection): boolean {
		if (!this.#bySocket.delete(connection.ws)) return false;
		this.#byId.delete(connection.id);
		this.plain.delete(connection);
		this.joined.delete(connection);
		return true;
	}

	/** Every connection, in the order they were added. */
	[Symbol.iterator](): IterableIterator<Connection> {
		return this.#bySocket.values();
	}
}
