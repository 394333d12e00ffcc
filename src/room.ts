import { DurableObject } from "cloudflare:workers";
import { type Config, readConfig } from "./config.ts";
import { History } from "./history.ts";
import { Outbox, trySend } from "./outbox.ts";
import { Presence } from "./presence.ts";
import {
	type ChatMessage,
	type ErrorCode,
	type HelloEvent,
	PING,
	PLAIN_NAME,
	PONG,
	parseClientEvent,
	type SendEvent,
	type SingleServerEvent,
	SUBPROTOCOL,
	type WelcomeEvent,
} from "./protocol.ts";
import { newBucket, takeToken } from "./rate-limit.ts";
import { readSession, type Session, saveSession } from "./session.ts";
import { capText, exceedsUtf8Bytes } from "./text.ts";

/**
 * Close codes a peer may put on the wire (RFC 6455 section 7.4.1 and the IANA registry): 1000
 * to 1003, 1007 to 1014, and 3000 to 4999. 1004 is reserved; 1005, 1006 and 1015 only ever
 * describe a close locally, and `WebSocket.close()` throws if given them.
 */
function isValidCloseCode(code: number): boolean {
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/**
 * One thing the burst will relay, in order, once its messages are stored: a new chat message
 * (with what plain sockets get and who sent it); a retried send's message repeated to the
 * connection that retried it (`staged` when the original is in this same burst); or a plain
 * binary or empty frame (relayed to plain sockets, never stored).
 */
type Relay =
	| { kind: "message"; message: ChatMessage; plainText: string; sender: WebSocket }
	| { kind: "repeat"; message: ChatMessage; to: WebSocket; staged: boolean }
	| { kind: "frame"; frame: string | ArrayBuffer };

/** RFC 6455 1005: the peer's Close frame carried no status code. */
const NO_STATUS = 1005;

/** Room instances created in this isolate so far (each wake from eviction creates one). */
let instancesCreated = 0;

/** `WebSocket.readyState` once the close handshake is over. */
const CLOSED = 3;
/** A connection's typing notices are passed on at most this often (ms). */
const TYPING_THROTTLE_MS = 2_000;

/** Picks the subprotocol to answer with from a `Sec-WebSocket-Protocol` offer, if any. */
function selectSubprotocol(offer: string | null): typeof SUBPROTOCOL | null {
	if (!offer) return null;
	return offer.split(",").some((protocol) => protocol.trim() === SUBPROTOCOL) ? SUBPROTOCOL : null;
}

/**
 * One chat room: a Durable Object that holds the room's WebSockets, stores its history and
 * relays every message to everyone in it.
 *
 * Two kinds of connection share a room (PROTOCOL.md): **plain** ones (no subprotocol) get the
 * tutorial's raw text relay; **rich** ones (`edgechat.v1`) get JSON events with ids, history,
 * presence and typing. Every message is stored and reaches both kinds.
 *
 * Sockets are accepted through the Hibernation API, so a quiet room is evicted from memory
 * while its sockets stay open; the constructor rebuilds everything from the sockets'
 * attachments and the room's SQLite storage when the next frame wakes it.
 *
 * Hot path: `webSocketMessage` -> `#relay` (the message gets its id and is staged) and, once the
 * burst of work is over, `#storeBurst` (every staged message written in one transaction) ->
 * `#broadcast`. It walks in-memory sets (never `ctx.getWebSockets()`) and encodes each event
 * once for all recipients.
 *
 * Nothing one client does may cost another a message: every frame is size-checked and
 * rate-limited per connection before it is looked at, every refusal is answered to its sender
 * alone, and a failure while handling one frame closes (1011) only the connection that sent it.
 */
export class Room extends DurableObject<Env> {
	/** The limits, from `[vars]`. */
	readonly #config: Config;
	/** Which instance of this isolate's rooms this is (for showing eviction from outside). */
	readonly #instance: number;
	/** The room's durable messages. */
	readonly #history: History;
	/** Names present, with their connection counts. */
	readonly #presence = new Presence();
	/** Every open socket and what the room knows of it (the same objects as the attachments). */
	readonly #sessions = new Map<WebSocket, Session>();
	/** Plain sockets: they receive raw text (and binary). */
	readonly #plain = new Set<WebSocket>();
	/** Rich sockets that have said `hello`: they receive JSON events. */
	readonly #members = new Set<WebSocket>();
	/** When each rich socket's last typing notice was passed on (in memory only; ephemeral). */
	readonly #lastTyping = new WeakMap<WebSocket, number>();
	/**
	 * When each socket last sent a frame, in memory (the attachment's bucket keeps it across
	 * eviction when flood control is on; a room evicted while idle has only pings to go by anyway).
	 */
	readonly #lastFrameAt = new WeakMap<WebSocket, number>();
	/** Whether this instance knows a liveness alarm is pending. */
	#sweepPending = false;
	/** Messages (and plain binary or empty frames) of this burst, relayed once they are stored. */
	#burst: Relay[] = [];
	/**
	 * Rich events waiting for the end of this burst of work, to go out one frame per recipient.
	 * Its flush ends the burst: the burst's messages are stored first (`#storeBurst`).
	 */
	readonly #outbox = new Outbox(
		(ws) => this.#leave(ws),
		() => this.#storeBurst(),
	);

	/**
	 * Runs on first use and again each time the object wakes from hibernation or eviction. The
	 * runtime still holds the hibernated sockets, and each carries its session as an
	 * attachment, so membership and presence are rebuilt here once, not asked for per message.
	 */
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#instance = ++instancesCreated;
		this.#config = readConfig(env);
		this.#history = new History(ctx.storage, this.#config.historyRetention);
		// The heartbeat is answered by the runtime itself, so it never wakes a hibernated room.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
		for (const ws of ctx.getWebSockets()) {
			const session = readSession(ws);
			if (!session) continue;
			this.#track(ws, session);
			if (session.name !== null) this.#presence.add(session.name);
		}
	}

	// -- connect ---------------------------------------------------------------------------------

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
		if (this.#sessions.size >= this.#config.maxConnections) {
			return new Response(`room is full (${this.#config.maxConnections} connections); try again later\n`, {
				status: 503,
				headers: { "Retry-After": "30" },
			});
		}
		const protocol = selectSubprotocol(request.headers.get("Sec-WebSocket-Protocol"));
		const { 0: client, 1: server } = new WebSocketPair();
		this.ctx.acceptWebSocket(server);

		const now = Date.now();
		// A plain client is present (as `guest`) from the start; a rich one once it says hello.
		const session: Session = {
			mode: protocol ? "rich" : "plain",
			name: protocol ? null : PLAIN_NAME,
			connectedAt: now,
			bucket: newBucket(this.#config, now),
		};
		saveSession(server, session);
		this.#track(server, session);
		if (session.name !== null) this.#announceJoin(server, session.name);
		if (protocol) await this.#scheduleLivenessSweep();

		const headers: HeadersInit = protocol ? { "Sec-WebSocket-Protocol": protocol } : {};
		return new Response(null, { status: 101, webSocket: client, headers });
	}

	// -- message ---------------------------------------------------------------------------------

	/**
	 * A frame from one client: size-checked, then rate-limited, then handled by its mode.
	 * Whatever it holds, only its sender can be answered with an error or closed.
	 */
	override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
		const session = this.#sessions.get(ws);
		if (!session) return;
		this.#lastFrameAt.set(ws, Date.now());
		try {
			const tooBig =
				typeof message === "string"
					? exceedsUtf8Bytes(message, this.#config.maxFrameBytes)
					: message.byteLength > this.#config.maxFrameBytes;
			if (tooBig) this.#drop(ws, 1009, `frame larger than ${this.#config.maxFrameBytes} bytes`);
			else if (session.mode === "rich") this.#onRichFrame(ws, session, message);
			else if (this.#admit(ws, session)) this.#onPlainFrame(ws, message);
		} catch (error) {
			// Nothing a client sends should get here; if something does, only its sender is dropped.
			console.error("room: failed to handle a frame", error);
			this.#drop(ws, 1011, "internal error");
		}
	}

	/**
	 * Flood control. Over the limit, a rich client is told when to retry and a plain client's
	 * message is dropped; a client that keeps flooding is closed with 1008. The bucket is saved in
	 * the attachment, so hibernation refills nothing early.
	 */
	#admit(ws: WebSocket, session: Session, clientId?: string): boolean {
		if (this.#config.rateLimitMessages === 0) return true;
		const verdict = takeToken(session.bucket, this.#config, Date.now());
		if (verdict.kind === "close") {
			this.#drop(ws, 1008, "too many messages");
			return false;
		}
		saveSession(ws, session);
		if (verdict.kind === "allow") return true;
		if (session.mode === "rich") {
			this.#sendTo(ws, {
				type: "error",
				code: "rate_limited",
				message: `too many messages: wait ${verdict.retryAfterMs} ms`,
				retryAfterMs: verdict.retryAfterMs,
				...(clientId === undefined ? {} : { clientId }),
			});
		}
		return false;
	}

	/**
	 * Plain mode, exactly as the tutorial's server: text is cut to the cap, stored, and sent as
	 * text to every plain socket (the sender too) and as a message event to rich ones. Binary is
	 * relayed as binary to plain sockets only (the rich protocol is text). An empty frame is a
	 * valid message for plain clients, but it is not stored or shown to rich ones. Both wait for
	 * the end of the burst like messages do, so a client's frames arrive in the order it sent them.
	 */
	#onPlainFrame(ws: WebSocket, message: string | ArrayBuffer): void {
		const text = typeof message === "string" ? capText(message, this.#config.messageCap) : message;
		if (typeof text !== "string" || text.length === 0) {
			this.#toBurst({ kind: "frame", frame: text });
			return;
		}
		this.#relay(ws, PLAIN_NAME, text, null, text);
	}

	/**
	 * Rich mode: one JSON event per frame, answered with an error event when it is not valid.
	 * Every frame counts against flood control except a connection's one valid `hello` and
	 * `typing`, which the room throttles itself: joining and typing never eat into a client's
	 * message allowance.
	 */
	#onRichFrame(ws: WebSocket, session: Session, message: string | ArrayBuffer): void {
		const parsed = typeof message === "string" ? parseClientEvent(message, this.#config) : null;
		const event = parsed?.ok ? parsed.event : null;
		if (event?.type === "typing" && session.name !== null) {
			this.#onTyping(ws, session.name);
			return;
		}
		const free = event?.type === "hello" && session.name === null;
		if (!free && !this.#admit(ws, session, event?.type === "send" ? event.clientId : undefined)) return;
		if (parsed === null) {
			this.#sendError(ws, "binary_unsupported", "edgechat.v1 takes JSON text frames only");
		} else if (!parsed.ok) {
			this.#sendTo(ws, parsed.error);
		} else if (parsed.event.type === "hello") {
			this.#onHello(ws, session, parsed.event);
		} else if (session.name === null) {
			this.#sendError(ws, "not_joined", "say hello (with a name) first");
		} else if (parsed.event.type === "send") {
			this.#onSend(ws, session.name, parsed.event);
		}
		// A joined connection's typing was handled above, before flood control.
	}

	/** A rich client joins: it gets the room as it is (members, history or what it missed). */
	#onHello(ws: WebSocket, session: Session, hello: HelloEvent): void {
		if (session.name !== null) {
			this.#sendError(ws, "already_joined", "this connection has already said hello");
			return;
		}
		// Messages of this burst are stored (and queued for the members so far) first, so the
		// newcomer gets them once, in its history.
		this.#storeBurst();
		session.name = hello.name;
		saveSession(ws, session);
		this.#announceJoin(ws, hello.name);
		this.#members.add(ws);

		const { messages, gap } =
			hello.since === undefined
				? { messages: this.#history.recent(this.#config.historyReplay), gap: false }
				: this.#history.after(hello.since, this.#config.historyReplay);
		const welcome: WelcomeEvent = {
			type: "welcome",
			name: hello.name,
			members: this.#presence.names(),
			history: messages,
			gap,
			latestId: this.#history.latestId,
			messageCap: this.#config.messageCap,
		};
		this.#sendTo(ws, welcome);
	}

	/** A chat message from a rich client. A resend of a known `clientId` is answered, not stored again. */
	#onSend(ws: WebSocket, name: string, send: SendEvent): void {
		try {
			this.#relay(ws, name, send.text, send.clientId, `${name}: ${send.text}`);
		} catch (error) {
			// Storage could not even be read: the sender is told (it may retry with the same clientId).
			console.error("room: could not check a message against storage", error);
			this.#refuseUnstored(ws, send.clientId);
			return;
		}
		// The message clears the sender's typing indicator everywhere; typing again is news.
		this.#lastTyping.delete(ws);
	}

	/** Someone is typing: tell everyone else, at most once per throttle interval per connection. */
	#onTyping(ws: WebSocket, name: string): void {
		const now = Date.now();
		if (now - (this.#lastTyping.get(ws) ?? 0) < TYPING_THROTTLE_MS) return;
		this.#lastTyping.set(ws, now);
		this.#broadcast({ type: "typing", name }, null, ws);
	}

	/**
	 * A chat message from `sender`: it gets its id now and joins the burst, to be stored and then
	 * sent to everyone (`plainText` to plain sockets, a message event to rich ones) by
	 * `#storeBurst`. A retried send (its `clientId` known) is not stored again; the original
	 * broadcast may have been lost with the sender's old connection, so the message is repeated
	 * to the sender, in turn. Throws (having staged nothing) if storage cannot be read.
	 */
	#relay(sender: WebSocket, name: string, text: string, clientId: string | null, plainText: string): void {
		const { message, status } = this.#history.stage(name, text, clientId, Date.now());
		this.#toBurst(
			status === "new"
				? { kind: "message", message, plainText, sender }
				: { kind: "repeat", message, to: sender, staged: status === "staged" },
		);
	}

	/** Adds to the burst; the outbox's next flush ends it. */
	#toBurst(relay: Relay): void {
		this.#burst.push(relay);
		this.#outbox.schedule();
	}

	/**
	 * Ends the burst: stores its messages in one transaction, then relays everything in it in the
	 * order it came. If storage fails, none of its messages was stored or shown to anyone: each
	 * sender (and each retry of one of them) is told (`#refuseUnstored`), and the rest of the
	 * burst (repeats of messages stored before, binary and empty plain frames) still goes out.
	 */
	#storeBurst(): void {
		if (this.#burst.length === 0) return;
		const burst = this.#burst;
		this.#burst = [];
		let stored = true;
		try {
			this.#history.commit();
		} catch (error) {
			console.error("room: could not store messages", error);
			stored = false;
		}
		for (const relay of burst) {
			if (relay.kind === "frame") this.#sendToPlain(relay.frame);
			else if (relay.kind === "message") {
				if (stored) this.#broadcast({ type: "message", ...relay.message }, relay.plainText);
				else this.#refuseUnstored(relay.sender, relay.message.clientId);
			} else if (stored || !relay.staged) this.#sendTo(relay.to, { type: "message", ...relay.message });
			else this.#refuseUnstored(relay.to, relay.message.clientId);
		}
	}

	/**
	 * Tells a sender its message was not stored: a rich client gets `server_error` with the
	 * message's clientId (it may resend it); a plain client cannot be told in-band, so it is
	 * closed with 1011.
	 */
	#refuseUnstored(sender: WebSocket, clientId: string | null): void {
		const session = this.#sessions.get(sender);
		if (!session) return;
		if (session.mode === "plain" || clientId === null) {
			this.#drop(sender, 1011, "could not store the message");
			return;
		}
		this.#sendTo(sender, {
			type: "error",
			code: "server_error",
			message: "the room could not store the message; retry later",
			clientId,
		});
	}

	// -- close -----------------------------------------------------------------------------------

	/**
	 * The client closed. The burst ends first, so what it holds for this client (the echo of a
	 * message sent just before the Close, say) goes out ahead of the reply; then the client
	 * leaves the room and the close handshake is completed with its own code, so neither side
	 * reports 1006. The runtime leaves the reply to the room (`web_socket_manual_reply_to_close`
	 * in wrangler.toml): replying on arrival would overtake that echo.
	 */
	override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
		this.#drop(ws, code, reason);
	}

	/** The connection failed (for example a TCP reset). The socket is gone; it leaves the room. */
	override async webSocketError(ws: WebSocket): Promise<void> {
		this.#leave(ws);
	}

	/**
	 * Liveness: a rich connection that has sent nothing, not even the heartbeat ping, for
	 * `HEARTBEAT_TIMEOUT_SECONDS` is taken for dead (a peer gone without a FIN or RST) and closed
	 * with 1001. Runs as an alarm while rich connections exist; see `sweepSilent`.
	 */
	override async alarm(): Promise<void> {
		this.#sweepPending = false;
		this.sweepSilent(Date.now());
		await this.#scheduleLivenessSweep();
	}

	/**
	 * Closes every rich connection silent since before `now - HEARTBEAT_TIMEOUT_SECONDS`.
	 * "Heard from" is the latest of: its connect, its last frame (in memory, and in the
	 * attachment's flood-control bucket when that is on), and
	 * the runtime's last automatic pong to it (`getWebSocketAutoResponseTimestamp`), which
	 * records pings answered while the room hibernated. Returns how many were closed.
	 */
	sweepSilent(now: number): number {
		const timeoutMs = this.#config.heartbeatTimeoutSeconds * 1000;
		if (timeoutMs === 0) return 0;
		let closed = 0;
		for (const [ws, session] of this.#sessions) {
			if (session.mode !== "rich") continue;
			const lastPong = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
			const lastFrame = this.#lastFrameAt.get(ws) ?? 0;
			const heardFrom = Math.max(session.connectedAt, session.bucket.updatedAt, lastFrame, lastPong);
			if (now - heardFrom <= timeoutMs) continue;
			this.#drop(ws, 1001, "no heartbeat");
			closed++;
		}
		return closed;
	}

	/**
	 * Keeps one alarm pending while rich connections exist, every half timeout, so a dead peer
	 * leaves within 1.5 x HEARTBEAT_TIMEOUT_SECONDS (135 s by default).
	 */
	async #scheduleLivenessSweep(): Promise<void> {
		const timeoutMs = this.#config.heartbeatTimeoutSeconds * 1000;
		// Every session is plain or rich, so this counts rich ones without walking them.
		const anyRich = this.#sessions.size > this.#plain.size;
		// Known pending (set by this instance): no storage round trip on every connect.
		if (timeoutMs === 0 || !anyRich || this.#sweepPending) return;
		if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + timeoutMs / 2);
		this.#sweepPending = true;
	}

	/**
	 * Ends one connection, whether the room closes it (with a reason) or answers the client's
	 * own Close, and forgets it.
	 */
	#drop(ws: WebSocket, code: number, reason: string): void {
		// What the burst and the outbox hold for it (the echo of its last good message, an error
		// event) goes out before the Close. (Called from within #storeBurst, the burst is empty.)
		this.#storeBurst();
		this.#outbox.flushOne(ws);
		this.#leave(ws);
		this.#close(ws, code, reason);
	}

	/** Forgets a socket and, if it was its name's last connection, tells the room. Idempotent. */
	#leave(ws: WebSocket): void {
		const session = this.#sessions.get(ws);
		if (!session) return;
		this.#sessions.delete(ws);
		this.#plain.delete(ws);
		this.#members.delete(ws);
		this.#outbox.forget(ws);
		if (session.name !== null && this.#presence.remove(session.name)) {
			this.#broadcast({ type: "leave", name: session.name }, null);
		}
	}

	/**
	 * Answers or starts a close handshake. With `web_socket_manual_reply_to_close` (wrangler.toml)
	 * the runtime leaves the answer to a client's Close to the room; were the runtime to answer it
	 * (`web_socket_auto_reply_to_close`), the socket would be closed by now and this does nothing.
	 */
	#close(ws: WebSocket, code: number, reason: string): void {
		if (ws.readyState === CLOSED) return;
		try {
			if (isValidCloseCode(code)) ws.close(code, reason);
			// A Close without a status code is answered without one.
			else if (code === NO_STATUS) ws.close();
			// A code no endpoint may send (1004, 1006, 1015, 1016-2999, 5000+) is a protocol error.
			else ws.close(1002, "invalid close code");
		} catch {
			// Already closing: the handshake is under way.
		}
	}

	// -- broadcast -------------------------------------------------------------------------------

	/** Starts tracking a socket in the in-memory sets (on connect, and on wake for each survivor). */
	#track(ws: WebSocket, session: Session): void {
		this.#sessions.set(ws, session);
		if (session.mode === "plain") this.#plain.add(ws);
		else if (session.name !== null) this.#members.add(ws);
	}

	/** Counts a new connection for `name` and, if it is the name's first, tells everyone else. */
	#announceJoin(ws: WebSocket, name: string): void {
		if (this.#presence.add(name)) this.#broadcast({ type: "join", name }, null, ws);
	}

	/**
	 * Sends one event to every rich member (queued in the outbox, encoded once) and, when
	 * `plainText` is given, that text to every plain socket at once: plain mode is one frame per
	 * message by contract, and every plain socket gets the very same string.
	 */
	#broadcast(event: SingleServerEvent, plainText: string | null, except?: WebSocket): void {
		if (this.#members.size > 0) this.#outbox.broadcast(JSON.stringify(event), this.#members, except);
		if (plainText !== null) this.#sendToPlain(plainText, except);
	}

	/**
	 * Sends one frame to every plain socket (but `except`), the same string or buffer to each.
	 * Sockets that can no longer be sent to leave the room after the loop, since leaving may
	 * itself broadcast a leave event.
	 */
	#sendToPlain(frame: string | ArrayBuffer, except?: WebSocket): void {
		const failed: WebSocket[] = [];
		for (const ws of this.#plain) if (ws !== except && !trySend(ws, frame)) failed.push(ws);
		for (const ws of failed) this.#leave(ws);
	}

	/** Sends one event to one rich socket, after whatever is already queued for it. */
	#sendTo(ws: WebSocket, event: SingleServerEvent): void {
		this.#outbox.unicast(ws, JSON.stringify(event));
	}

	#sendError(ws: WebSocket, code: ErrorCode, message: string): void {
		this.#sendTo(ws, { type: "error", code, message });
	}

	// -- inspection (tests and operators) --------------------------------------------------------

	/**
	 * A number that changes only when the runtime creates the object anew: after the room was
	 * evicted (hibernated), the next call wakes it and gets a new number.
	 */
	instanceNumber(): number {
		return this.#instance;
	}

	/** How many sockets the room is tracking right now. */
	connectionCount(): number {
		return this.#sessions.size;
	}

	/** The names present right now, sorted. */
	memberNames(): string[] {
		return this.#presence.names();
	}

	/** How many messages the room has stored (the current burst's are stored first). */
	storedMessageCount(): number {
		this.#storeBurst();
		return this.#history.count();
	}
}
