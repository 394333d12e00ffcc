/** The room's record of its shards (src/room/shard-directory.ts) on a real Durable Object's SQLite. */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RoomStore } from "../../../src/room/room-store.ts";
import { ShardDirectory } from "../../../src/room/shard-directory.ts";
import { freshRoom, stubFor } from "../rooms.ts";

/** A room's sizes: `SHARD_SIZE`, `ROOM_SOCKETS` (the same unless given) and `MAX_CONNECTIONS`. */
const sizes = (shardSize: number, maxConnections: number, roomSockets = shardSize) => ({
	shardSize,
	roomSockets,
	maxConnections,
});

/** Runs `use` on the directory of a room no other test uses, and on a second one opened after it. */
function withDirectory<T>(use: (directory: ShardDirectory, reopen: () => ShardDirectory) => T): Promise<T> {
	return runInDurableObject(stubFor(freshRoom("directory")), (_room, state) =>
		use(
			new ShardDirectory(new RoomStore(state.storage), () => []),
			() => new ShardDirectory(new RoomStore(state.storage), () => []),
		),
	);
}

describe("ShardDirectory", () => {
	it("places connections in the lowest shard with room, counting places handed out before the shard reports", async () => {
		const placed = await withDirectory((directory, reopen) => {
			const first = [1, 2, 3].map(() => directory.place(sizes(2, 100)));
			directory.report(1, 1); // one of shard 1's two never arrived
			const next = directory.place(sizes(2, 100));
			return { first, next, list: reopen().list(), total: directory.connections };
		});
		expect(placed.first).toEqual([1, 1, 2]);
		expect(placed.next).toBe(1);
		expect(placed.list).toEqual([
			{ shard: 1, connections: 2 },
			{ shard: 2, connections: 1 },
		]);
		expect(placed.total).toBe(3);
	});

	it("opens no shard past what MAX_CONNECTIONS needs beside the room's own object", async () => {
		// SHARD_SIZE 2 and MAX_CONNECTIONS 7: the room's own object and ceil(5 / 2) = 3 shards.
		const placed = await withDirectory((directory) => Array.from({ length: 7 }, () => directory.place(sizes(2, 7))));
		expect(placed).toEqual([1, 1, 2, 2, 3, 3, null]);
	});

	it("with ROOM_SOCKETS below SHARD_SIZE, opens the shards MAX_CONNECTIONS needs beside the room's own fewer sockets", async () => {
		// SHARD_SIZE 2, ROOM_SOCKETS 0 and MAX_CONNECTIONS 7: ceil(7 / 2) = 4 shards hold everyone.
		const placed = await withDirectory((directory) => Array.from({ length: 8 }, () => directory.place(sizes(2, 7, 0))));
		expect(placed).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
	});

	it("hands the Worker a view of every shard used, one more past 80% full, and pushes to all of them while it lives", async () => {
		const outcome = await withDirectory((directory, reopen) => {
			directory.report(1, 10);
			directory.report(2, 0);
			const before = [...directory.pushedTo(0)];
			const shards = directory.handOutView(sizes(10, 1_000), 0);
			directory.report(1, 9);
			directory.report(2, 8); // 17 of 20 places: past 80%
			const wider = directory.handOutView(sizes(10, 1_000), 1_000);
			const live = [...reopen().pushedTo(5_000)];
			const expired = [...reopen().pushedTo(1_000 + 10_000 + 5_000)];
			return { before, shards, wider, live, expired };
		});
		expect(outcome.before).toEqual([1]);
		expect(outcome.shards).toBe(2);
		expect(outcome.wider).toBe(3);
		// Shard 3 has never reported, and shard 2 may be empty: a view names them, so they get pushes.
		expect(outcome.live).toEqual([1, 2, 3]);
		expect(outcome.expired).toEqual([1, 2]);
	});

	it("keeps each shard's members across a reopening, and tells what changed when a shard reports them all", async () => {
		const outcome = await withDirectory((directory, reopen) => {
			directory.arrive(1, "u-ann", "Ann");
			directory.arrive(1, "u-ann", "Ann");
			directory.arrive(1, "u-bob", "Bob");
			directory.arrive(2, "u-cat", "Cat");
			directory.depart(1, "u-bob");
			const kept = reopen().shardMembers();
			const changes = directory.replace(1, [
				["u-ann", "Ann", 1],
				["u-dan", "Dan", 2],
			]);
			return { kept, changes, shard1: directory.membersOf(1) };
		});
		expect(outcome.kept).toEqual([
			["u-ann", "Ann", 2],
			["u-cat", "Cat", 1],
		]);
		expect(outcome.changes).toEqual({ added: [["u-dan", "Dan", 2]], removed: [["u-ann", "Ann", 1]] });
		expect(outcome.shard1).toEqual([
			["u-ann", "Ann", 1],
			["u-dan", "Dan", 2],
		]);
	});
});
