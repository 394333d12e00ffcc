/**
 * The room's object takes its shards' batches at a pace (src/room/shard-links.ts `submitPace`):
 * each batch is answered with the least time the shard leaves before its next, so that however
 * many shards a room has, a reconnect storm reaches the room's object as at most
 * `SUBMITS_PER_SECOND` batches a second. SHARD_SIZE 3: the room's own object holds the first
 * three connections, shard 1 the next three.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_SUBMIT_PACE_MS, SUBMITS_PER_SECOND } from "../../../src/room/shard-links.ts";
import { freshRoom } from "../rooms.ts";
import { type RichClient, roomOf } from "../sockets.ts";
import type { Room } from "./faulty-worker.ts";

function roomStub(room: string): DurableObjectStub<Room> {
	return env.ROOMS.get(env.ROOMS.idFromName(room)) as unknown as DurableObjectStub<Room>;
}

describe("the room paces its shards' batches", () => {
	it("answers no pace while one shard holds connections, and a pace that keeps every shard together within the budget", async () => {
		const room = freshRoom("pace-answer");
		const paces = await runInDurableObject(roomStub(room), (r: Room) => {
			const answers: [number, number][] = [];
			for (let shard = 1; shard <= 800; shard++) {
				const pace = r.submit({ shard, connections: 1, submissions: [] });
				if ([1, 2, 10, 100, 250, 500, 800].includes(shard)) answers.push([shard, pace]);
			}
			return answers;
		});
		expect(paces[0]).toEqual([1, 0]);
		for (const [shards, pace] of paces.slice(1)) {
			expect(pace).toBeGreaterThan(0);
			expect(pace).toBeLessThanOrEqual(MAX_SUBMIT_PACE_MS);
			// Every shard submitting as often as its pace allows stays within the budget, up to the cap.
			if (pace < MAX_SUBMIT_PACE_MS) expect((shards * 1_000) / pace).toBeLessThanOrEqual(SUBMITS_PER_SECOND);
		}
		const values = paces.map(([, pace]) => pace);
		expect(values).toEqual([...values].sort((a, b) => a - b));
		expect(values.at(-1)).toBe(MAX_SUBMIT_PACE_MS);
	});

	it("a shard keeps what its clients do until the pace allows its next batch, then sends it", async () => {
		const room = freshRoom("pace-kept");
		const { here, there } = await roomOf(room, "dan");
		const [ann, dan] = [here[0] as RichClient, there[0] as RichClient];
		await runInDurableObject(roomStub(room), (r: Room) => r.paceShards(1_000));
		// This batch's answer tells the shard its pace.
		await dan.say("one");
		expect((await ann.nextOf("message")).text).toBe("one");
		const sent = Date.now();
		await dan.say("two");
		expect((await ann.nextOf("message")).text).toBe("two");
		// The room answered "one" before it pushed it, so "two" waited for most of the pace.
		expect(Date.now() - sent).toBeGreaterThanOrEqual(500);
	});
});
