/**
 * How an upgrade reaches the part of a room that will hold it, without the room's object staying
 * in the path of its frames, nor (in a big room) in the path of each upgrade.
 *
 * While the room's object holds fewer than `ROOM_SOCKETS` connections (`SHARD_SIZE` unless set)
 * it accepts the socket itself (a small room has no extra hop). Past that it answers the Worker, not the client, `421` with
 * the number of the shard to use (`SHARD_HEADER`) and how many shards the Worker may place
 * upgrades on by itself (`SHARDS_HEADER`); the Worker sends the upgrade to that shard's object.
 * A socket it accepts while its shards hold connections (after a deploy or a reset, it has room
 * again while they hold the bulk of the room) carries a view too, which the Worker removes.
 * For the next `PLACEMENT_VIEW_MS` the Worker (each isolate, in memory) places that room's
 * upgrades itself, by a hash into those shards, marked `PLACED_HEADER`: the room's object is not
 * asked. A shard so placed checks what the room would have (the limits per user and per address,
 * which hold because the hash sends one user's or one address's upgrades to one shard); a ban is
 * enforced by the room when the shard reports the arrival, in the same burst (the socket closes
 * with the ban's code). A full shard answers 503 with `SHARD_FULL_HEADER`; the isolate then keeps
 * off it for `PLACEMENT_VIEW_MS` and tries another (at random placement) or asks the room, which
 * places it elsewhere and hands out a fresh view.
 *
 * The cost per connection past the room object's own: the shard's request, and its report of its
 * new size in its next call to the room. The room's object is asked once per isolate per
 * `PLACEMENT_VIEW_MS`, and for each upgrade a full shard turned away: in a deploy of a room of
 * 100,000, every member back within 30 s, it is asked for its own `ROOM_SOCKETS` and a few hundred
 * more, not 100,000 times (docs/capacity.md).
 */

/** Set by the Worker on every upgrade it forwards: the room's name (the objects are named after it). */
export const ROOM_HEADER = "Edgechat-Room";
/** In the room object's `421` answer, and on the upgrade the Worker forwards to that shard: its number. */
export const SHARD_HEADER = "Edgechat-Shard";
/** The status of the room object's answer "use a shard" (never seen by clients). */
export const USE_SHARD_STATUS = 421;
/**
 * On a shard's 503 when it is full, and then on the upgrade the Worker sends the room's object
 * again: that shard's number. The room counts places it handed out until a shard reports its
 * size, but a shard's report can come before upgrades already on their way to it; the room then
 * takes that shard as full and places the upgrade elsewhere. The Worker asks again at most
 * `PLACEMENT_ATTEMPTS` times.
 */
export const SHARD_FULL_HEADER = "Edgechat-Shard-Full";
export const PLACEMENT_ATTEMPTS = 3;
/** In the room object's `421`: how many shards (1 to N) the Worker may place upgrades on by itself. */
export const SHARDS_HEADER = "Edgechat-Shards";
/** On an upgrade the Worker placed by itself: the shard checks the limits per user and per address. */
export const PLACED_HEADER = "Edgechat-Placed";
/** How long a Worker isolate places a room's upgrades by itself after the room's last word (ms). */
export const PLACEMENT_VIEW_MS = 10_000;

/**
 * The shard (1 to `shards`) the Worker places an upgrade of `holder` on: by a hash of it, so one
 * user's (or one address's) upgrades all go to one shard, which can count them.
 */
export function hashedShard(holder: string, shards: number): number {
	// FNV-1a, 32 bits: cheap, and spreads short keys evenly enough for this.
	let hash = 0x811c9dc5;
	for (let i = 0; i < holder.length; i++) hash = Math.imul(hash ^ holder.charCodeAt(i), 0x01000193);
	return 1 + ((hash >>> 0) % shards);
}

/** The name of shard `shard`'s object (in the SHARDS namespace) for room `room`. */
export function shardObjectName(room: string, shard: number): string {
	return `${room}/${shard}`;
}

/** Where a shard belongs: its room's name and its own number there (1, 2, ...). */
export interface Placement {
	readonly room: string;
	readonly shard: number;
}

/**
 * The room and shard numbers the Worker put on a forwarded upgrade, or `null` when they are
 * missing or malformed (the shard then refuses the upgrade: only the Worker sends these).
 */
export function readPlacement(request: Request): Placement | null {
	const room = request.headers.get(ROOM_HEADER);
	const shard = Number(request.headers.get(SHARD_HEADER));
	if (!room || !Number.isInteger(shard) || shard < 1) return null;
	return { room, shard };
}
