/**
 * The naive room, for the benchmark only: the tutorial's server written the obvious way as a
 * hibernatable Durable Object (the "naive hibernating room" of docs/platform.md). One object
 * per room keeps its sockets in a Set and sends every frame, as it came, to everyone (the
 * sender too, as the tutorial's server does). Nothing is parsed, stored or checked, so it also
 * shows what workerd holds per idle connection when the room itself holds nothing. Not a
 * floor: it is slower than edgechat, because each send goes to the socket at once
 * (bench/README.md).
 */
import { DurableObject } from "cloudflare:workers";

export class NaiveRoom extends DurableObject {
	/** The room's sockets, rebuilt from the runtime's list only when the object is created. */
	#sockets = new Set(this.ctx.getWebSockets());

	async fetch() {
		const { 0: client, 1: server } = new WebSocketPair();
		this.ctx.acceptWebSocket(server);
		this.#sockets.add(server);
		return new Response(null, { status: 101, webSocket: client });
	}

	async webSocketMessage(_ws, message) {
		for (const socket of this.#sockets) {
			try {
				socket.send(message);
			} catch {
				this.#sockets.delete(socket);
			}
		}
	}

	async webSocketClose(ws) {
		this.#sockets.delete(ws);
	}

	async webSocketError(ws) {
		this.#sockets.delete(ws);
	}
}

export default {
	/** `/api/rooms/NAME/websocket`, as edgechat's, to that room's object. */
	async fetch(request, env) {
		const room = /^\/api\/rooms\/([^/]+)\/websocket$/.exec(new URL(request.url).pathname)?.[1];
		if (!room) return new Response("not found\n", { status: 404 });
		return env.ROOMS.get(env.ROOMS.idFromName(room)).fetch(request);
	},
};
