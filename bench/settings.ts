/**
 * The settings every benchmarked edgechat server runs with: flood control and the limits per
 * address off (the load is the point, and it all comes from one machine) and room capacity
 * raised. Persistence and the inspector are off by default.
 */
export const BENCH_VARS = {
	RATE_LIMIT_MESSAGES: "0",
	RATE_LIMIT_ROOM_REQUESTS: "false",
	MAX_CONNECTIONS_PER_ADDRESS: "0",
	MAX_CONNECTIONS: "10000",
};

/**
 * How many objects the sharded room of the shards scenario spreads over: its own and 3 shards
 * (a fourth takes some once the Worker places upgrades by itself and the three are 80% full:
 * ARCHITECTURE.md, "One room, many objects").
 */
export const SHARD_OBJECTS = 4;

/**
 * The `[vars]` of a server whose room of `members` connections spreads over `objects` objects:
 * `SHARD_SIZE` = members / objects (1: the whole room on the room's own object).
 */
export function shardVars(members: number, objects: number): Record<string, string> {
	if (members % SHARD_OBJECTS !== 0) throw new Error(`--members must be a multiple of ${SHARD_OBJECTS}`);
	return { SHARD_SIZE: String(members / objects), MAX_CONNECTIONS: String(Math.max(10_000, members)) };
}
