/**
 * The Worker: routing, and the webhook queues' consumer. Static files in `public/` never reach
 * this code (Workers static assets answer them first); everything else lands here and is either
 * sent to its room's Durable Object, handed to the HTTP API (src/api/app.ts), or refused with a
 * status and a one-line reason.
 *
 * | request                                         | answer                       |
 * | ----------------------------------------------- | ---------------------------- |
 * | GET /api/rooms/NAME/websocket + Upgrade          | 101, via the room's object   |
 * |   ... past the room object's SHARD_SIZE          | 101, via one of its shards   |
 * | the same without `Upgrade: websocket`            | 426                          |
 * | the same with another method                     | 405                          |
 * | the same from a page of a foreign origin         | 403                          |
 * | the same when the room is full (room decides)    | 503                          |
 * | an invalid NAME                                  | 400                          |
 * | signed mode: no token, or a bad one              | 401                          |
 * | signed mode: a token for another room, a ban     | 403                          |
 * | past ROOM_REQUEST_LIMIT's requests per address   | 429 (the room's stats too)   |
 * | anything else under /api/ (the room's size too)  | the HTTP API (docs/api.md)   |
 * | anything else                                    | 404                          |
 */

import { identify } from "../accounts/identify.ts";
import { type Config, ConfigError, readConfig } from "../deployment/config.ts";
import { logEvent } from "../deployment/log-event.ts";
import { checkRoomName } from "../gate/name-check.ts";
import { checkOrigin, checkOwnOrigin } from "../gate/origin.ts";
import { limitRoomRequest } from "../gate/room-request-limit.ts";
import { withoutToken } from "../gate/token.ts";
import { returnToRooms } from "../webhooks/dead-letter.ts";
import { DEAD_LETTER_QUEUE, type WebhookDelivery } from "../webhooks/delivery.ts";
import { sendWebhooks } from "../webhooks/sender.ts";
import { isWebSocketUpgrade, refuse } from "../wire/http.ts";
import { addressOf, holderKey, holderOf, IDENTITY_HEADER, type Identity, identityHeader } from "../wire/identity.ts";
import {
	PLACED_HEADER,
	PLACEMENT_ATTEMPTS,
	ROOM_HEADER,
	SHARD_FULL_HEADER,
	SHARD_HEADER,
	shardObjectName,
	USE_SHARD_STATUS,
} from "../wire/placement.ts";
import { learnShards, markFull, shardFor } from "./placements.ts";

/** `/api/rooms/NAME/websocket`; NAME is captured raw (even with slashes) so it can be judged. */
const ROOM_SOCKET_PATH = /^\/api\/rooms\/(.*)\/websocket$/;

/**
 * The limits, or the 500 answer that names the unusable setting; why it is unusable, which may
 * quote a secret value, goes to the log only.
 */
function configOf(env: Env): Config | Response {
	try {
		return readConfig(env);
	} catch (error) {
		if (!(error instanceof ConfigError)) throw error;
		logEvent("bad_config", { setting: error.setting, error: error.message });
		return refuse(500, `server misconfigured: ${error.forClients}`);
	}
}

/**
 * Sends an upgrade to the object of the room that will hold it (src/wire/placement.ts): to a shard
 * at once when this isolate holds a view of the room's shards, otherwise to the room's object,
 * which accepts it or names a shard (and hands out a view). A shard that turns the upgrade away
 * as full sends it back to the room's object, at most `PLACEMENT_ATTEMPTS` times.
 */
async function place(
	request: Request,
	headers: Headers,
	env: Env,
	room: string,
	config: Config,
	identity: Identity | null,
	stub: DurableObjectStub,
): Promise<Response> {
	/** Sends the upgrade to shard `shard`, which the room's object named, or the Worker chose by its view. */
	const toShard = async (shard: number, chosenBy: "room" | "worker") => {
		const shardHeaders = new Headers(headers);
		shardHeaders.set(SHARD_HEADER, String(shard));
		if (chosenBy === "worker") shardHeaders.set(PLACED_HEADER, "worker");
		const shardStub = env.SHARDS.get(env.SHARDS.idFromName(shardObjectName(room, shard)));
		return shardStub.fetch(new Request(request, { headers: shardHeaders }));
	};
	// Placed by a hash of who it is, so one user's (or one address's) connections share a shard
	// that counts them; with nothing to count, on any shard this isolate has not found full.
	const address = config.maxConnectionsPerAddress > 0 ? addressOf(request) : null;
	const holder = holderOf(identity, address);
	const key = holder && holderKey(holder);
	/** Places by this isolate's view: the shard's answer, or the last full shard's (or `null`: no shard to try). */
	const byView = async (): Promise<Response | null> => {
		let full: Response | null = null;
		for (let attempt = 1; attempt <= PLACEMENT_ATTEMPTS; attempt++) {
			const shard = shardFor(room, key, Date.now());
			if (shard === null) break;
			const taken = await toShard(shard, "worker");
			if (taken.headers.get(SHARD_FULL_HEADER) === null) return taken;
			markFull(room, shard, Date.now());
			full = taken;
		}
		return full;
	};
	const askRoom = (full: Response | null) => {
		const again = new Headers(headers);
		const shard = full?.headers.get(SHARD_FULL_HEADER);
		if (shard) again.set(SHARD_FULL_HEADER, shard);
		return stub.fetch(new Request(request, { headers: again })).then((answer) => learnShards(room, answer, Date.now()));
	};
	let taken = await byView();
	if (taken && taken.headers.get(SHARD_FULL_HEADER) === null) return taken;
	// No view, or the shards it names were full: the room's object places it, and its answer
	// refreshes the view. (Upgrades arriving together before the first view all come here: one
	// request cannot wait on another's answer, since a Worker may not share a promise, or the
	// I/O behind it, across requests.)
	for (let attempt = 1; ; attempt++) {
		const answer = await askRoom(taken);
		const shard = answer.headers.get(SHARD_HEADER);
		if (answer.status !== USE_SHARD_STATUS || shard === null) return answer;
		// The room is past its own object's size: the upgrade goes to the shard it named, and the
		// room object is out of this socket's path (and of the next upgrades' for a while).
		taken = await toShard(Number(shard), "room");
		if (taken.headers.get(SHARD_FULL_HEADER) === null) return taken;
		if (attempt === PLACEMENT_ATTEMPTS) {
			// The room keeps filling faster than it hears of it: the client is told to come back,
			// without the shards' internal header.
			return refuse(503, "room is busy filling; try again shortly", { "Retry-After": "1" });
		}
	}
}

export default {
	async fetch(request, env, ctx): Promise<Response> {
		const { pathname } = new URL(request.url);
		const socket = ROOM_SOCKET_PATH.exec(pathname);
		if (!socket) {
			if (pathname.startsWith("/auth/")) {
				const config = configOf(env);
				if (config instanceof Response) return config;
				// Loaded on the first account request only: a socket never evaluates the WebAuthn library.
				const { handleAuth } = await import("../accounts/routes.ts");
				return handleAuth(request, env, config);
			}
			if (!pathname.startsWith("/api/")) return refuse(404, "not found");
			// Loaded on the first API request only: the chat's own path never evaluates Hono and zod.
			const { default: api } = await import("../api/app.ts");
			return api.fetch(request, env, ctx);
		}

		const room = checkRoomName(socket[1] ?? "");
		if (!room.ok) return refuse(400, room.reason);
		const config = configOf(env);
		if (config instanceof Response) return config;
		// One name is one object (and, past its SHARD_SIZE, its shards), everywhere in the world.
		const stub = env.ROOMS.get(env.ROOMS.idFromName(room.name));
		if (request.method !== "GET") return refuse(405, "use GET to open a chat socket", { Allow: "GET" });
		const upgrading = isWebSocketUpgrade(request);
		// A plain GET here is how a page learns why its upgrade was refused (a browser never sees the
		// status of a failed WebSocket): the token is checked (signed mode), then the room says
		// whether the user is banned or over its connections per user or per address; past all
		// that the answer is the usual 426.
		// The origin guards sockets (a foreign page must not open one with the user's token); a
		// page's own fetch of the reason carries no Origin header, being same-origin.
		const origin = upgrading ? checkOrigin(request, config) : ({ ok: true } as const);
		if (!origin.ok) return refuse(403, origin.reason);
		// Every request past here reaches the room's object (which bills, and exists once asked):
		// counted per address before the token costs a verification and the room a call.
		const limited = await limitRoomRequest(request, env, config);
		if (limited) return limited;
		// Who it is (a session, Access, a token) is checked here, once per connection, never per message.
		const identified = await identify(request, env, config, room.name);
		if (identified instanceof Response) return identified;
		const { identity } = identified;
		if (upgrading && identified.cookie) {
			const own = checkOwnOrigin(request, config);
			if (!own.ok) return refuse(403, own.reason);
		}

		// Only the Worker says which room, shard and user an upgrade is for: a client's own values go.
		const headers = new Headers(request.headers);
		withoutToken(headers);
		headers.set(ROOM_HEADER, room.name);
		headers.delete(SHARD_HEADER);
		headers.delete(SHARD_FULL_HEADER);
		headers.delete(IDENTITY_HEADER);
		headers.delete(PLACED_HEADER);
		if (identity) headers.set(IDENTITY_HEADER, identityHeader(identity));
		if (!upgrading) return stub.fetch(new Request(request, { headers }));
		return place(request, headers, env, room.name, config, identity, stub);
	},

	/**
	 * The webhook queues (wrangler.toml): events to deliver (src/webhooks/sender.ts), and those
	 * that failed every attempt, handed back to their rooms (src/webhooks/dead-letter.ts, src/room/failed-webhooks.ts). With webhooks
	 * turned off meanwhile, waiting events are kept for later: retried in an hour, and in the end
	 * kept by their rooms like any failed event.
	 */
	async queue(batch, env): Promise<void> {
		if (batch.queue === DEAD_LETTER_QUEUE) return returnToRooms(batch, env.ROOMS);
		const { webhooks } = readConfig(env);
		if (!webhooks) {
			batch.retryAll({ delaySeconds: 3_600 });
			return;
		}
		return sendWebhooks(batch, webhooks);
	},
} satisfies ExportedHandler<Env, WebhookDelivery>;
