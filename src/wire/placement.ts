/**
 * How an upgrade reaches the part of a room that will hold it, without the room's object staying
 * in the path of its frames. The Worker sends every upgrade to the room's object first, as it
 * always has. While the object holds fewer than `SHARD_SIZE` connections it accepts the socket
 * itself (a small room has no extra hop). Past that it answers the Worker, not the client,
 * `421` with the number of the shard to use (`SHARD_HEADER`), and the Worker sends the same
 * upgrade to that shard's object, which accepts it; from then on the socket's frames go to the
 * shard alone. The cost per connection past the first `SHARD_SIZE`: one more Durable Object
 * request (the room's answer) before the upgrade, and the shard's report of its new size in its
 * next call to the room.
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
