/**
 * The Worker: routing only. Static files in `public/` never reach this code (Workers static
 * assets answer them first); everything else lands here and is either sent to its room's
 * Durable Object or refused with a status and a one-line reason.
 *
 * | request                                         | answer                       |
 * | ----------------------------------------------- | ---------------------------- |
 * | GET /api/rooms/NAME/websocket + Upgrade          | 101, via the room's object   |
 * | the same without `Upgrade: websocket`            | 426                          |
 * | the same with another method                     | 405                          |
 * | the same from a page of a foreign origin         | 403                          |
 * | the same when the room is full (room decides)    | 503                          |
 * | an invalid NAME                                  | 400                          |
 * | anything else                                    | 404                          |
 */
import { ConfigError, readConfig } from "./config.ts";
import { logEvent } from "./log-event.ts";
import { checkOrigin } from "./origin.ts";
import { checkRoomName } from "./room-name.ts";

export { Room } from "./room.ts";

/** `/api/rooms/NAME/websocket`; NAME is captured raw (even with slashes) so it can be judged. */
const ROOM_SOCKET_PATH = /^\/api\/rooms\/(.*)\/websocket$/;

/** A short plain-text answer. */
function refuse(status: number, reason: string, headers: Record<string, string> = {}): Response {
	return new Response(`${reason}\n`, {
		status,
		headers: { "Content-Type": "text/plain; charset=utf-8", ...headers },
	});
}

export default {
	async fetch(request, env): Promise<Response> {
		const { pathname } = new URL(request.url);
		const match = ROOM_SOCKET_PATH.exec(pathname);
		if (!match) return refuse(404, "not found");

		const room = checkRoomName(match[1] ?? "");
		if (!room.ok) return refuse(400, room.reason);
		if (request.method !== "GET") return refuse(405, "use GET to open a chat socket", { Allow: "GET" });
		if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
			return refuse(426, "this path only speaks WebSocket: send Upgrade: websocket", { Upgrade: "websocket" });
		}

		let origin: ReturnType<typeof checkOrigin>;
		try {
			origin = checkOrigin(request, readConfig(env));
		} catch (error) {
			if (!(error instanceof ConfigError)) throw error;
			logEvent("bad_config", { error: error.message });
			return refuse(500, `server misconfigured: ${error.message}`);
		}
		if (!origin.ok) return refuse(403, origin.reason);

		// One name is one object, everywhere in the world.
		const stub = env.ROOMS.get(env.ROOMS.idFromName(room.name));
		return stub.fetch(request);
	},
} satisfies ExportedHandler<Env>;
