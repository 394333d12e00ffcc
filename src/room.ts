import { DurableObject } from "cloudflare:workers";
import { type RoomConfig, readRoomConfig } from "./config.ts";
import { capText } from "./text.ts";

/**
 * Close codes a server may put on the wire. 1005, 1006 and 1015 only ever describe a close
 * locally (RFC 6455 section 7.4.1), and `WebSocket.close()` throws if given them.
 */
function isSendableCloseCode(code: number): boolean {
	return (
		code === 1000 || (code >= 1001 && code <= 1014 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
	);
}

/** `WebSocket.readyState` once the close handshake is over. */
const CLOSED = 3;

/**
 * One chat room: a Durable Object that holds the room's WebSockets and relays every message
 * to all of them.
 *
 * Sockets are accepted through the Hibernation API (`ctx.acceptWebSocket`), so a room with no
 * traffic is evicted from memory while its sockets stay open; the runtime recreates the object
 * (running the constructor again) when the next frame arrives.
 *
 * The hot path is `webSocketMessage` -> `#broadcast`: it touches only an in-memory `Set` of
 * sockets, never `ctx.getWebSockets()`, and hands every recipient the very same string or
 * buffer, so nothing is re-encoded per recipient.
 */
export class Room extends DurableObject<Env> {
	/** The room's limits, from `[vars]`. */
	readonly #config: RoomConfig;
	/** Every open socket in the room. Rebuilt from the runtime on wake; kept in step on connect and close. */
	readonly #sockets: Set<WebSocket>;

	/**
	 * Runs on first use and again each time the object wakes from hibernation or eviction.
	 * The runtime still holds the hibernated sockets, so the room's membership is rebuilt from
	 * them once here instead of being asked for on every message.
	 */
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#config = readRoomConfig(env);
		this.#sockets = new Set(ctx.getWebSockets());
	}

	/**
	 * Accepts a WebSocket upgrade forwarded by the Worker (which has already checked the path,
	 * the room name, the method and the `Upgrade` header).
	 */
	override async fetch(request: Request): Promise<Response> {
		if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
			return new Response("expected Upgrade: websocket\n", { status: 426, headers: { Upgrade: "websocket" } });
		}
		const { 0: client, 1: server } = new WebSocketPair();
		this.ctx.acceptWebSocket(server);
		this.#sockets.add(server);
		return new Response(null, { status: 101, webSocket: client });
	}

	/**
	 * A frame from one client. Plain mode, exactly as the tutorial's server: text is cut to the
	 * cap and sent as text to everyone (the sender too); binary is relayed as binary, untouched.
	 * An empty frame is a valid message and is relayed like any other.
	 */
	override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
		try {
			this.#broadcast(typeof message === "string" ? capText(message, this.#config.messageCap) : message);
		} catch (error) {
			// Nothing a client sends should get here; if something does, only its sender is dropped.
			console.error("room: failed to relay a message", error);
			this.#leave(ws);
			this.#close(ws, 1011, "internal error");
		}
	}

	/**
	 * The client closed. It leaves the room and the close handshake is completed with the
	 * client's own code, so neither side reports 1006.
	 */
	override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
		this.#leave(ws);
		this.#close(ws, code, reason);
	}

	/** The connection failed (for example a TCP reset). The socket is gone; it leaves the room. */
	override async webSocketError(ws: WebSocket): Promise<void> {
		this.#leave(ws);
	}

	/** How many sockets the room is relaying to right now. */
	connectionCount(): number {
		return this.#sockets.size;
	}

	/** Sends one frame to every socket in the room. */
	#broadcast(frame: string | ArrayBuffer): void {
		for (const socket of this.#sockets) {
			try {
				socket.send(frame);
			} catch {
				// The socket is closing or already gone; its close or error event will follow, but it
				// must not cost the rest of the room this message.
				this.#sockets.delete(socket);
			}
		}
	}

	/** Forgets a socket. Safe to call more than once. */
	#leave(ws: WebSocket): void {
		this.#sockets.delete(ws);
	}

	/**
	 * Answers or starts a close handshake. From compatibility date 2026-04-07 the runtime
	 * already replies to a client's Close frame by itself (`web_socket_auto_reply_to_close`), so
	 * the socket is usually closed by now and there is nothing to send; older dates need the reply.
	 */
	#close(ws: WebSocket, code: number, reason: string): void {
		if (ws.readyState === CLOSED) return;
		try {
			if (isSendableCloseCode(code)) ws.close(code, reason);
			else ws.close();
		} catch {
			// Already closing: the handshake is under way.
		}
	}
}
