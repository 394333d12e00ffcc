import { DurableObject } from "cloudflare:workers";
import { PING, PONG, SUBPROTOCOL } from "../../public/contract.js";
import { type Config, readConfig } from "../deployment/config.ts";
import { logEvent } from "../deployment/log-event.ts";
import { type Close, closeFor } from "../wire/close-codes.ts";
import { addressOf, identityOf } from "../wire/identity.ts";
import { HELLO_TIMEOUT_MS } from "../wire/limits.ts";
import type { Submission } from "../wire/rpc.ts";
import type { Connection } from "./connection.ts";
import { Hub, type Received } from "./hub.ts";

/**
 * What the room puts in `Sec-WebSocket-Extensions` to turn compression down: any value the
 * runtime cannot read as a permessage-deflate offer (it then answers the client with no
 * extension at all; measured locally, see docs/operating.md, "Compression").
 */
const NO_EXTENSIONS = "identity";

/**
 * Picks the subprotocol to answer with from a `Sec-WebSocket-Protocol` offer: `edgechat.v1` or
 * none, never another offer (RFC 6455 has the server select one of the client's, and a signed-mode
 * client's token rides among them: answering with it would send the token back in the `101`).
 */
function selectSubprotocol(offer: string | null): typeof SUBPROTOCOL | null {
	if (!offer) return null;
	return offer.split(",").some((protocol) => protocol.trim() === SUBPROTOCOL) ? SUBPROTOCOL : null;
}

/**
 * A Durable Object that holds chat sockets through a hub: what the room's own object (src/room/room.ts)
 * and its shards (src/shard/shard.ts) have in common. It upgrades sockets, hands every frame to
 * the hub, paces held plain frames with a timer, answers Closes, runs the liveness alarm, and
 * owns the **burst**: everything its input events bring until a zero-delay timer fires (that
 * timer runs after the input events already waiting). What its clients did reaches the subclass
 * as `Submission`s (`take`), in order; when the burst ends the subclass settles it (`endBurst`:
 * the room stores and delivers, a shard sends it to the room) and the hub sends what waits.
 *
 * Sockets are accepted through the Hibernation API, so a quiet object is evicted from memory
 * while its sockets stay open; the hub rebuilds itself from the sockets' attachments when the
 * next event wakes it. Nothing one client does may cost another a message: the hub checks every
 * frame before it is looked at and answers every refusal to its sender alone, and a failure
 * while handling one frame closes (1011) only the connection that sent it.
 */
export abstract class HubHost extends DurableObject<Env> {
	/** The limits, from `[vars]`. */
	protected readonly config: Config;
	/** The connections this object holds. */
	protected readonly hub: Hub;
	/** Whether the timer that ends the burst is set. */
	#endOfBurstSet = false;
	/** Whether a close was decided since the burst's end (closes happen there, once answered). */
	#closeDue = false;
	/** When the timer that releases held plain frames fires (infinity: not set), and the timer. */
	#releaseAt = Number.POSITIVE_INFINITY;
	#releaseTimer: ReturnType<typeof setTimeout> | null = null;
	/** The timers of rich connections that have not said hello yet (`HELLO_TIMEOUT_MS`). */
	readonly #helloTimers = new Map<WebSocket, ReturnType<typeof setTimeout>>();

	/** Runs on first use and again each time the object wakes from hibernation or eviction. */
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.config = readConfig(env);
		this.hub = new Hub(this.config, ctx);
		// The heartbeat is answered by the runtime itself, so it never wakes a hibernated object.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
	}

	/** Takes what a client did into the burst, in order. */
	protected abstract take(submission: Submission): void;

	/** Whether the burst holds anything to settle. */
	protected abstract get hasWork(): boolean;

	/** The burst is over: it is settled (the room stores and delivers, a shard submits), and then the hub sends what waits. */
	protected abstract endBurst(): void;

	/**
	 * The newest batch whose answers have been delivered here: a closing connection whose last
	 * batch is at most this is closed at the end of the burst. The room's own object answers its
	 * clients within the burst (infinity); a shard counts the room's answers to its batches.
	 */
	protected abstract get answeredBatch(): number;

	// -- accept ----------------------------------------------------------------------------------

	/**
	 * Accepts a WebSocket upgrade (the Worker has checked the path, the room name, the method,
	 * the `Upgrade` header and the origin; the subclass, the capacity). Offering `edgechat.v1`
	 * (alone or among others) selects the rich protocol; offering only unknown subprotocols gets
	 * no `Sec-WebSocket-Protocol` in the answer, as RFC 6455 section 4.2.2 says, and the
	 * connection is plain (a browser then fails it). `idPrefix` starts the connection's id. In
	 * signed mode the connection acts as the identity the Worker verified (src/gate/token.ts, src/wire/identity.ts).
	 */
	protected async upgrade(request: Request, idPrefix: string): Promise<Response> {
		const protocol = selectSubprotocol(request.headers.get("Sec-WebSocket-Protocol"));
		const { 0: client, 1: server } = new WebSocketPair();
		this.hub.accept(server, protocol ? "rich" : "plain", idPrefix, identityOf(request), addressOf(request));
		// A rich client says hello at once; one that does not is closed (src/wire/limits.ts
		// `HELLO_TIMEOUT_MS`). The timer is cleared by the hello: a pending timer keeps the object
		// from hibernating, so it must not outlive the few milliseconds a hello takes.
		if (protocol)
			this.#helloTimers.set(
				server,
				setTimeout(() => this.#helloDue(server), HELLO_TIMEOUT_MS),
			);
		this.afterEvent();
		await this.hub.keepSweeping();
		const headers = new Headers();
		if (protocol) headers.set("Sec-WebSocket-Protocol", protocol);
		// The runtime accepts a client's permessage-deflate offer whenever the 101 carries no
		// Sec-WebSocket-Extensions of its own; a value that is not a deflate offer makes it accept
		// none and send no such header (an empty value counts as none at all). Why off by
		// default: docs/operating.md, "Compression".
		if (!this.config.compression) headers.set("Sec-WebSocket-Extensions", NO_EXTENSIONS);
		return new Response(null, { status: 101, webSocket: client, headers });
	}

	/** A connection said hello (or is gone): its timer goes. */
	#helloSaid(ws: WebSocket): void {
		clearTimeout(this.#helloTimers.get(ws) ?? null);
		this.#helloTimers.delete(ws);
	}

	/** A rich connection's time to say hello is up: closed (1008) if it has not. */
	#helloDue(ws: WebSocket): void {
		this.#helloTimers.delete(ws);
		if (!this.hub.awaitingHello(ws)) return;
		this.closeConnection(ws, closeFor("noHello", HELLO_TIMEOUT_MS / 1000));
		this.afterEvent();
	}

	// -- message ---------------------------------------------------------------------------------

	/** A frame from one client: the hub checks it and answers it, or hands it back to act on. */
	override async webSocketMessage(ws: WebSocket, frame: string | ArrayBuffer): Promise<void> {
		try {
			const received = this.hub.receive(ws, frame);
			if (received?.kind === "hello") this.#helloSaid(ws);
			if (received) this.#act(received);
		} catch (error) {
			// Nothing a client sends should get here; if something does, only its sender is dropped.
			logEvent("frame_failed", { error: String(error) });
			this.closeConnection(ws, closeFor("internalError"));
		}
		this.afterEvent();
	}

	#act(received: Received): void {
		switch (received.kind) {
			case "close":
				this.closeConnection(received.from.ws, received);
				break;
			case "held":
				this.#setRelease(received.releaseInMs);
				break;
			default:
				this.take(received);
		}
	}

	/**
	 * Sets the timer that releases plain frames held by flood control (src/hub/hub.ts
	 * `releaseHeld`), unless one is due sooner. A pending timer also keeps the object from
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
		const { released, nextInMs } = this.hub.releaseHeld(Date.now());
		for (const received of released) this.#act(received);
		if (nextInMs !== null) this.#setRelease(nextInMs);
		this.afterEvent();
	}

	// -- end of burst ----------------------------------------------------------------------------

	/**
	 * After every event: connections the hub took on or found gone are news for the room, and
	 * the timer that ends the burst is set if anything waits.
	 */
	protected afterEvent(): void {
		for (const change of this.hub.takePresenceChanges()) this.take(change);
		this.setEndOfBurst();
	}

	/** Sets the timer that ends the burst, once, when the burst or the hub has anything waiting. */
	protected setEndOfBurst(): void {
		if (this.#endOfBurstSet || (!this.hasWork && !this.hub.hasQueued && !this.#closeDue)) return;
		this.#endOfBurstSet = true;
		setTimeout(() => {
			this.#endOfBurstSet = false;
			this.#closeDue = false;
			this.endBurst();
			// Connections to close get what this burst brought them first (src/hub/hub.ts `startClosing`).
			this.hub.closeAnswered(this.answeredBatch);
			this.hub.flush();
			// Sockets found gone while sending have left, and that is news for the others.
			this.afterEvent();
		}, 0);
	}

	// -- close -----------------------------------------------------------------------------------

	/**
	 * The client closed. Plain frames it still had held by flood control go into the burst first
	 * (they were accepted). The object answers its Close itself (`web_socket_manual_reply_to_close`
	 * in wrangler.toml), with the client's own code, once what it is owed has gone: the echo of a
	 * message sent just before the Close goes out ahead of the reply.
	 */
	override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
		this.#takeHeld(ws);
		this.closeConnection(ws, { code, reason });
		this.afterEvent();
	}

	/** The connection failed (for example a TCP reset). The socket is gone; it leaves the room. */
	override async webSocketError(ws: WebSocket): Promise<void> {
		this.#helloSaid(ws);
		this.#takeHeld(ws);
		this.hub.leave(ws);
		this.afterEvent();
	}

	/** Plain frames a departing client still had held by flood control were accepted: they go into the burst. */
	#takeHeld(ws: WebSocket): void {
		for (const received of this.hub.takeHeld(ws)) this.#act(received);
	}

	/**
	 * Closes one connection (the client's Close answered, or a decision of the hub's) once what
	 * it is owed has gone: it stops being read now and is closed at the end of the burst, after
	 * that burst's answers (`answeredBatch`). However many Closes arrive together, the burst
	 * ends once: a storm of Closes costs one commit and one push per shard, not one each.
	 */
	protected closeConnection(ws: WebSocket, close: Close): Connection | undefined {
		this.#helloSaid(ws);
		this.#closeDue = true;
		return this.hub.startClosing(ws, close);
	}

	/**
	 * Liveness: the alarm, pending while connections exist, sweeps out the silent ones
	 * (src/hub/liveness.ts) and sets itself again.
	 */
	override async alarm(): Promise<void> {
		this.hub.alarmFired();
		this.sweepSilent(Date.now());
		await this.hub.keepSweeping();
	}

	/**
	 * Closes (1001) every rich connection silent for longer than `HEARTBEAT_TIMEOUT_SECONDS` at
	 * `now`; the alarm's work, public so tests can move the clock. Returns how many were closed.
	 */
	sweepSilent(now: number): number {
		const closed = this.hub.sweepSilent(now);
		this.afterEvent();
		return closed;
	}

	/** How many sockets this object is holding right now. */
	connectionCount(): number {
		return this.hub.size;
	}
}
