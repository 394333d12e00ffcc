/** The room's record of its shards (src/room/shard-directory.ts) on a real Durable Object's SQLite. */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ShardDirectory } from "../../../src/room/shard-directory.ts";
import { freshRoom, stubFor } from "../rooms.ts";

/** Runs `use` on the directory of a room no other test uses, and on a second one opened after it. */
function withDirectory<T>(use: (directory: ShardDirectory, reopen: () => ShardDirectory) => T): Promise<T> {
	return runInDurableObject(stubFor(freshRoom("directory")), (_room, state) =>
		use(new ShardDirectory(state.storage.sql), () => new ShardDirectory(state.storage.sql)),
	);
}

describe("ShardDirectory", () => {
	it("places connections in the lowest shard with room, counting places handed out before the shard reports", async () => {
		const placed = await withDirectory((directory, reopen) => {
			const first = [1, 2, 3].map(() => directory.place(2));
			directory.report(1, 1); // one of shard 1's two never arrived
			const next = directory.place(2);
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
