/**
 * Presence on each side of `PRESENCE_LIMIT` (4 in this project, vitest.config.ts), through the
 * real Worker, in a room spread over objects of three connections: members on the room's own
 * object and on a shard hear the same story.
 */
import { describe, expect, it } from "vitest";
import type { PresenceEvent } from "../../../src/wire/presence.ts";
import type { SingleServerEvent } from "../../../src/wire/protocol.ts";
import { freshRoom } from "../rooms.ts";
import { connectRich, type RichClient } from "../sockets.ts";

/** Events until a `presence` event says `count` members; returns them all, that one last. */
async function untilCount(client: RichClient, count: number): Promise<SingleServerEvent[]> {
	const events: SingleServerEvent[] = [];
	for (;;) {
		const event = await client.nextEvent();
		events.push(event);
		if (event.type === "presence" && event.memberCount === count) return events;
	}
}

const presences = (events: SingleServerEvent[]) =>
	events.filter((event): event is PresenceEvent => event.type === "presence");

describe("presence past PRESENCE_LIMIT", () => {
	it("below the limit, every join and leave is its own event", async () => {
		const room = freshRoom("small");
		const ann = await connectRich(room, "ann");
		const bob = await connectRich(room, "bob");
		expect(await ann.nextOf("join")).toEqual({ type: "join", name: "bob" });
		await bob.close();
		expect(await ann.nextOf("leave")).toEqual({ type: "leave", name: "bob" });
	});

	it("past it, a join reaches members on every object as a presence event with the count, never as a join", async () => {
		const room = freshRoom("crowd");
		const [ann, bob, cat] = [
			await connectRich(room, "ann"),
			await connectRich(room, "bob"),
			await connectRich(room, "cat"),
		];
		// Below the limit still: cat came as a join.
		while ((await ann.nextOf("join")).name !== "cat");
		const dan = await connectRich(room, "dan"); // the fourth member, on shard 1
		expect(dan.welcome.memberCount).toBe(4);
		const toAnn = await untilCount(ann, 4);
		expect(toAnn.filter((event) => event.type === "join")).toEqual([]);
		expect(toAnn.at(-1)).toEqual({
			type: "presence",
			memberCount: 4,
			joins: [{ name: "dan" }],
			leaves: [],
			joined: 1,
			left: 0,
		});
		await connectRich(room, "eve"); // also on shard 1, within the interval: held, then sent
		for (const member of [ann, bob, cat, dan]) {
			const events = await untilCount(member, 5);
			expect(events.filter((event) => event.type === "join" && ["dan", "eve"].includes(event.name))).toEqual([]);
			expect(presences(events).flatMap((event) => event.joins)).toContainEqual({ name: "eve" });
		}
	});

	it("leaves come as presence events too, and the count falls back to events below the limit", async () => {
		const room = freshRoom("leaving");
		const members: RichClient[] = [];
		for (const name of ["ann", "bob", "cat", "dan", "eve"]) members.push(await connectRich(room, name));
		const [ann, , cat, dan, eve] = members as [RichClient, RichClient, RichClient, RichClient, RichClient];
		await untilCount(ann, 5);
		await dan.close();
		await eve.close();
		const events = await untilCount(ann, 3);
		expect(events.filter((event) => event.type === "leave")).toEqual([]);
		const leaves = presences(events).flatMap((event) => event.leaves);
		expect(leaves).toEqual(expect.arrayContaining([{ name: "dan" }, { name: "eve" }]));
		expect(presences(events).reduce((sum, event) => sum + event.left, 0)).toBe(2);
		// Three members and nothing held: a leave is its own event again.
		await cat.close();
		expect(await ann.nextOf("leave")).toEqual({ type: "leave", name: "cat" });
	});
});
