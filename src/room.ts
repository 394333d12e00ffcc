import { DurableObject } from "cloudflare:workers";
import { type Config, readConfig } from "./config.ts";
import { deliveriesOf, type Staged } from "./delivery.ts";
import { Hub, type Received } from "./hub/hub.ts";
import { logEvent } from "./log-event.ts";
import { MessageLog } from "./message-log.ts";
import { PING, PONG, SUBPROTOCOL } from "./protocol.ts";

/** Room instances created in this isolate so far (each wake from eviction creates one). */
let instancesCreated = 0;

/**
 * What the room puts in `Sec-WebSocket-Extensions` to turn compression down: any value the
 * runtime cannot read as a permessage-deflate offer (it then answers the client with no
 * extension at all; measured locally, see README.md "Compression").
 */
const NO_EXTENSIONS = "identity";

/** Picks the subprotocol to answer with from a `Sec-WebSocket-Protocol` offer, if any. */
function selectSubprotocol(offer: string | null): typeof SUBPROTOCOL | null {
	if (!offer) return null;
	return offer.split(",").some((protocol) => protocol.trim() === SUBPROTOCOL) ? SUBPROTOCOL : null;
}

/**
 * One chat room: a Durable Object in two parts, wired together here.
 *
 * - **The log** (`MessageLog`, src/message-log.ts): the one order of message ids, `clientId`
 *   deduplication, storage in the object's SQLite database, retention, and history for clients
 *   that join or resume. It knows nothing of sockets.
 * - **The hub** (`Hub`, src/hub/): the connections this object holds, each frame's checks,
 *   presence, typing, flood control, fan-out, liveness and close codes. It knows nothing of SQL.
 *
 * The room owns the **burst**: everything its input events bring until a zero-delay timer fires
 * (that timer runs after the input events already waiting). Messages get their ids at once and
 * wait in the burst; when it ends, the log commits them in one transaction and the hub is handed
 * the outcome (`deliver`) and sends each recipient one frame (`flush`). Read top to bottom:
 * accept, hello, message, end of burst, close.
 *
 * Sockets are accepted through the Hibernation API, so a quiet room is evicted from memory
 * while its sockets stay open; the log and the hub rebuild themselves from the object's storage
 * and the sockets' attachments when the next event wakes it.
 *
 * Nothing one client does may cost another a message: the hub checks every frame before it is
 * looked at and answers every refusal to its sender alone, and a failure while handling one
 * frame closes (1011) only the connection that sent it.
 */
export class Room extends DurableObject<Env> {
	/** The limits, from `[vars]`. */
	readonly #config: Config;
	/** Which instance of this isolate's rooms this is (for showing eviction from outside). */
	readonly #instance: number;
	/** The room's messages, in order, stored. */
	readonly #log: MessageLog;
	/** The connections this object holds. */
	readonly #hub: Hub;
	/** This burst's work, in the order it came, until the burst ends. */
	#burst: Staged[] = [];
	/** Whether the timer that ends the burst is set. */
	#endOfBurstSet = false;
	/** When the timer that releases held plain frames fires (infinity: not set), and the timer. */
	#releaseAt = Number.POSITIVE_INFINITY;
	#releaseTimer: ReturnType<typeof setTimeout> | null = null;

	/** Runs on first use and again each time the object wakes from hibernation or eviction. */
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#instance = ++instancesCreated;
		this.#config = readConfig(env);
		this.#log = new MessageLog(ctx.storage, this.#config.historyRetention);
		this.#hub = new Hub(this.#config, ctx);
		// The heartbeat is answered by the runtime itself, so it never wakes a hibernated room.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
	}

	// -- accept ----------------------------------------------------------------------------------

	/**
	 * Accepts a WebSocket upgrade forwarded by the Worker (which has already checked the path,
	 * the room name, the method, the `Upgrade` header and the origin). A full room answers 503
	 * before the upgrade. Offering `edgechat.v1` (alone or among others) selects the rich
	 * protocol; offering only unknown subprotocols gets no `Sec-WebSocket-Protocol` in the answer,
	 * as RFC 6455 section 4.2.2 says, and the connection is plain (a browser then fails it).
	 */
	override async fetch(request: Request): Promise<Response> {
		if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
			return new Response("expected Upgrade: websocket\n", { status: 426, headers: { Upgrade: "websocket" } });
		}
		if (this.#hub.isFull) {
			logEvent("room_full", { connections: this.#hub.size });
			return new Response(`room is full (${this.#config.maxConnections} connections); try again later\n`, {
				status: 503,
				headers: { "Retry-After": "30" },
			});
		}
		const protocol = selectSubprotocol(request.headers.get("Sec-WebSocket-Protocol"));
		const { 0: client, 1: server } = new WebSocketPair();
		this.#hub.accept(server, protocol ? "rich" : "plain");
		this.#setEndOfBurst();
		if (protocol) await this.#hub.keepSweeping();
		const headers = new Headers();
		if (protocol) headers.set("Sec-WebSocket-Protocol", protocol);
		// The runtime accepts a client's permessage-deflate offer whenever the 101 carries no
		// Sec-WebSocket-Extensions of its own; a value that is not a deflate offer makes it accept
		// none and send no such header (an empty value counts as none at all). Why off by
		// default: README.md, "Compression".
		if (!this.#config.compression) headers.set("Sec-WebSocket-Extensions", NO_EXTENSIONS);
		return new Response(null, { status: 101, webSocket: client, headers });
	}

	// -- message ---------------------------------------------------------------------------------

	/** A frame from one client: the hub checks it and answers it, or hands it back to act on. */
	override async webSocketMessage(ws: WebSocket, frame: string | ArrayBuffer): Promise<void> {
		try {
			const received = this.#hub.receive(ws, frame);
			if (received) this.#act(received);
		} catch (error) {
			// Nothing a client sends should get here; if something does, only its sender is dropped.
			logEvent("frame_failed", { error: String(error) });
			this.#close(ws, 1011, "internal error");
		}
		this.#setEndOfBurst();
	}

	#act(received: Received): void {
		switch (received.kind) {
			case "hello":
				this.#welcome(received);
				break;
			case "send":
				this.#stage(received);
				break;
			case "frame":
				// Never stored, but in the burst all the same, so a client's frames keep their order.
				this.#burst.push({ kind: "frame", frame: received.frame });
				break;
			case "close":
				this.#close(received.from.ws, received.code, received.reason);
				break;
			case "held":
				this.#setRelease(received.releaseInMs);
				break;
		}
	}

	/**
	 * Sets the timer that releases plain frames held by flood control (src/hub/hub.ts
	 * `#pacePlain`), unless one is due sooner. A pending timer also keeps the object from
	 * hibernating, so held frames are never lost to an eviction.
	 */
	#setRelease(inMs: number): void {
		const at = Date.now() + inMs;
		if (at >= this.#releaseAt) return;
		clearTimeout(this.#releaseTimer);
		this.#releaseAt = at;
		this.#releaseTimer = setTimeout(() => this.#release(), inMs);
	}

	/** Held frames whose allowance has come back join the burst, in order. */
	#release(): void {
		this.#releaseAt = Number.POSITIVE_INFINITY;
		const { released, nextInMs } = this.#hub.releaseHeld(Date.now());
		for (const received of released) this.#act(received);
		if (nextInMs !== null) this.#setRelease(nextInMs);
		this.#setEndOfBurst();
	}

	/**
	 * A rich client joins. Messages of this burst are stored (and queued for the members so far)
	 * first, so the newcomer gets them once, in its history.
	 */
	#welcome({ from, name, since }: Extract<Received, { kind: "hello" }>): void {
		this.#commitBurst();
		this.#hub.welcome(from, name, this.#log.replay(since, this.#config.historyReplay));
	}

	/**
	 * A chat message gets its id now and joins the burst. A retried send (its `clientId` known)
	 * is not stored again; the original broadcast may have been lost with the sender's old
	 * connection, so the message is repeated to the sender, in turn.
	 */
	#stage({ from, name, text, clientId }: Extract<Received, { kind: "send" }>): void {
		let staged: ReturnType<MessageLog["stage"]>;
		try {
			staged = this.#log.stage(name, text, clientId, Date.now());
		} catch (error) {
			// Storage could not even be read: the sender is told (it may retry with the same clientId).
			logEvent("storage_failed", { during: "stage", error: String(error) });
			this.#burst.push({ kind: "unreadable", clientId, from: from.id });
			return;
		}
		const { message, status } = staged;
		this.#burst.push(
			status === "new"
				? { kind: "new", message, from: from.id }
				: { kind: "repeat", message, to: from.id, staged: status === "staged" },
		);
	}

	// -- end of burst ----------------------------------------------------------------------------

	/** Sets the timer that ends the burst, once, when the burst or the hub has anything waiting. */
	#setEndOfBurst(): void {
		if (this.#endOfBurstSet || (this.#burst.length === 0 && !this.#hub.hasQueued)) return;
		this.#endOfBurstSet = true;
		setTimeout(() => this.#endBurst(), 0);
	}

	/** The burst is over: its messages are stored and everything waiting goes out. */
	#endBurst(): void {
		this.#endOfBurstSet = false;
		this.#commitBurst();
		this.#hub.flush();
		// Sockets found gone while sending have left, and that is news for the others.
		this.#setEndOfBurst();
	}

	/**
	 * Stores the burst's messages in one transaction and hands the hub what they come to, in the
	 * order they came (queued, not yet sent). If storage fails, none of them was stored or is
	 * shown to anyone: each sender is refused, and the rest of the burst (repeats of messages
	 * stored before, plain binary and empty frames) still goes out.
	 *
	 * Nobody can see a message before it is stored: the object's output gate holds every frame
	 * sent after a storage write until that write is durable.
	 */
	#commitBurst(): void {
		if (this.#burst.length === 0) return;
		const burst = this.#burst;
		this.#burst = [];
		let stored = true;
		try {
			this.#log.commit();
		} catch (error) {
			logEvent("storage_failed", { during: "commit", items: burst.length, error: String(error) });
			stored = false;
		}
		this.#hub.deliver(deliveriesOf(burst, stored));
	}

	// -- close -----------------------------------------------------------------------------------

	/**
	 * The client closed. Plain frames it still had held by flood control go into the burst first
	 * (they were accepted). The room answers its Close itself (`web_socket_manual_reply_to_close`
	 * in wrangler.toml), with the client's own code, once the burst's part for it (the echo of a
	 * message sent just before the Close, say) has gone out: a reply on arrival would overtake it.
	 */
	override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
		this.#stageHeld(ws);
		this.#close(ws, code, reason);
		this.#setEndOfBurst();
	}

	/** The connection failed (for example a TCP reset). The socket is gone; it leaves the room. */
	override async webSocketError(ws: WebSocket): Promise<void> {
		this.#stageHeld(ws);
		this.#hub.leave(ws);
		this.#setEndOfBurst();
	}

	/** Plain frames a departing client still had held by flood control were accepted: they go into the burst. */
	#stageHeld(ws: WebSocket): void {
		for (const received of this.#hub.takeHeld(ws)) this.#act(received);
	}

	/** Closes one connection, the room's burst ended first so what it holds for it goes out ahead. */
	#close(ws: WebSocket, code: number, reason: string): void {
		this.#commitBurst();
		this.#hub.close(ws, code, reason);
	}

	/**
	 * Liveness: the alarm, pending while rich connections exist, sweeps out the silent ones
	 * (src/hub/liveness.ts) and sets itself again.
	 */
	override async alarm(): Promise<void> {
		this.#hub.alarmFired();
		this.sweepSilent(Date.now());
		await this.#hub.keepSweeping();
	}

	/**
	 * Closes (1001) every rich connection silent for longer than `HEARTBEAT_TIMEOUT_SECONDS` at
	 * `now`; the alarm's work, public so tests can move the clock. Returns how many were closed.
	 */
	sweepSilent(now: number): number {
		this.#commitBurst();
		const closed = this.#hub.sweepSilent(now);
		this.#setEndOfBurst();
		return closed;
	}

	// -- inspection (tests and operators) --------------------------------------------------------

	/**
	 * A number that changes only when the runtime creates the object anew: after the room was
	 * evicted (hibernated), the next call wakes it and gets a new number.
	 */
	instanceNumber(): number {
		return this.#instance;
	}

	/** How many sockets the room is holding right now. */
	connectionCount(): number {
		return this.#hub.size;
	}

	/** The names present right now, sorted. */
	memberNames(): string[] {
		return this.#hub.memberNames();
	}

	/** How many messages the room has stored (the current burst's are stored first). */
	storedMessageCount(): number {
		this.#commitBurst();
		this.#setEndOfBurst();
		return this.#log.count();
	}
}
