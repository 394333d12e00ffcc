/**
 * Admission: whether an upgrade forwarded by the Worker gets into the room, and which part of
 * the room holds its socket. The Worker has checked the path, the room name, the origin and (in
 * signed mode) the token; what only the room knows is decided here: a banned user is refused
 * (403), a user past `MAX_CONNECTIONS_PER_USER` in signed mode is refused (429), a full room is
 * refused (503, `MAX_CONNECTIONS` over all its objects), and past the room
 * object's own `ROOM_SOCKETS` (`SHARD_SIZE` unless set) the Worker is told which shard to use
 * (src/wire/placement.ts).
 */
import type { Config } from "../deployment/config.ts";
import { logEvent } from "../deployment/log-event.ts";
import { bannedReason } from "../wire/close-codes.ts";
import { isWebSocketUpgrade, refuse, tooManyConnections, upgradeRequired } from "../wire/http.ts";
import { addressOf, holderOf, identityOf } from "../wire/identity.ts";
import { SHARD_FULL_HEADER, SHARD_HEADER, SHARDS_HEADER, USE_SHARD_STATUS } from "../wire/placement.ts";
import type { Members } from "./members.ts";
import type { Moderation } from "./moderation.ts";
import type { ShardDirectory } from "./shard-directory.ts";

/** The decision on one upgrade: the room's own object takes it (`here`), or the answer to give. */
export type Decision = "here" | Response;

/** The room's door. */
export class Admission {
	readonly #config: Config;
	readonly #directory: ShardDirectory;
	readonly #moderation: Moderation;
	readonly #members: Members;
	readonly #recount: (shard: number) => void;
	#decided = 0;

	/**
	 * Decides with the room's limits, its record of its shards, its bans and who is in it;
	 * `recount` asks a shard for its true count (src/room/shard-links.ts `recount`).
	 */
	constructor(
		config: Config,
		directory: ShardDirectory,
		moderation: Moderation,
		members: Members,
		recount: (shard: number) => void,
	) {
		this.#config = config;
		this.#directory = directory;
		this.#moderation = moderation;
		this.#members = members;
		this.#recount = recount;
	}

	/**
	 * An upgrade this object accepted, with a view of its shards for the Worker when they hold
	 * connections (src/wire/placement.ts): after a deploy or a reset this object has room again
	 * while its shards are still the room's bulk, and the Worker places the next upgrades on them
	 * without asking, instead of sending a whole storm here first.
	 */
	withView(accepted: Response, now: number): Response {
		if (this.#directory.connections === 0) return accepted;
		accepted.headers.set(SHARDS_HEADER, String(this.#directory.handOutView(this.#config, now)));
		return accepted;
	}

	/** Requests decided on by this instance (upgrades, and pages asking why one was refused). */
	get decided(): number {
		return this.#decided;
	}

	/**
	 * Decides on `request` while the room's own object holds `held` connections. The ban is
	 * checked before the upgrade itself: a page whose socket was refused asks why with a plain
	 * GET of the same URL (docs/operating.md, "Signed mode"), and gets the same 403.
	 */
	decide(request: Request, held: number, now: number): Decision {
		this.#decided++;
		const identity = identityOf(request);
		const bannedUntil = identity && this.#moderation.bannedUntil(identity.userId, now);
		if (bannedUntil) return refuse(403, bannedReason(bannedUntil));
		const perUser = this.#config.maxConnectionsPerUser;
		if (identity && perUser > 0 && this.#members.connectionsOf(identity.userId, now) >= perUser) {
			return tooManyConnections("user", perUser);
		}
		const perAddress = this.#config.maxConnectionsPerAddress;
		const address = identity ? null : addressOf(request);
		if (address !== null && perAddress > 0 && this.#members.connectionsFrom(address, now) >= perAddress) {
			return tooManyConnections("address", perAddress);
		}
		if (!isWebSocketUpgrade(request)) return upgradeRequired();
		const { maxConnections, shardSize, roomSockets } = this.#config;
		const connections = held + this.#directory.connections;
		if (connections >= maxConnections) return roomFull(connections, maxConnections);
		const holder = holderOf(identity, address);
		if (holder) this.#members.expect(holder, now);
		if (held < roomSockets) return "here";
		// A shard that filled before the room heard of it says so; the room takes it as full, and
		// asks it for its count: the word "full" can arrive after the shard's own report of a
		// connection gone since, and a quiet shard would not report again.
		const full = Number(request.headers.get(SHARD_FULL_HEADER));
		if (full > 0) {
			this.#directory.report(full, shardSize);
			this.#recount(full);
		}
		const shard = this.#directory.place(this.#config);
		if (shard === null) return roomFull(connections, maxConnections);
		// With the shard, how many shards the Worker may place on by itself for a while.
		const shards = String(this.#directory.handOutView(this.#config, now));
		return new Response(null, {
			status: USE_SHARD_STATUS,
			headers: { [SHARD_HEADER]: String(shard), [SHARDS_HEADER]: shards },
		});
	}
}

/** The 503 of a full room (`MAX_CONNECTIONS` over all its objects, or every shard it may have full). */
function roomFull(connections: number, maxConnections: number): Response {
	logEvent("room_full", { connections });
	return refuse(503, `room is full (${maxConnections} connections); try again later`, { "Retry-After": "30" });
}
