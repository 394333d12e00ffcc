/**
 * The conversation in signed mode (AUTH_SECRET set, SHARD_SIZE 3): read positions kept by the
 * room per user and carried to another device, reactions counted per user (not per name) with
 * their user ids, and what a read-only token may and may not do.
 */
import { describe, expect, it } from "vitest";
import { freshRoom } from "../rooms.ts";
import { signedIn } from "./tokens.ts";

describe("read positions", () => {
	it("keeps how far each user has read, only ever forward, and tells the user's next connection", async () => {
		const room = freshRoom();
		const ann = await signedIn(room, "u-ann");
		expect(ann.welcome.readUpTo).toBe(0);
		const said = [];
		for (let i = 0; i < 3; i++) said.push(await ann.say(`m${i}`));
		ann.send({ type: "read", id: (said[2] as { id: number }).id });
		ann.send({ type: "read", id: 1 });
		// Past the newest id: taken as the newest.
		const bob = await signedIn(room, "u-bob");
		bob.send({ type: "read", id: 999 });
		await ann.say("after the reads");
		const phone = await signedIn(room, "u-ann");
		expect(phone.welcome.readUpTo).toBe(3);
		expect((await signedIn(room, "u-bob")).welcome.readUpTo).toBe(3);
		expect((await signedIn(room, "u-cat")).welcome.readUpTo).toBe(0);
	});
});

describe("reactions in signed mode", () => {
	it("counts a user once whatever the name, lists its user id, and refuses a read-only token", async () => {
		const room = freshRoom();
		const ann = await signedIn(room, "u-ann");
		const twin = await signedIn(room, "u-twin", "member", { name: "ann" });
		const reader = await signedIn(room, "u-reader", "readonly");
		const message = await ann.say("react");
		ann.send({ type: "react", id: message.id, emoji: "👍", on: true });
		twin.send({ type: "react", id: message.id, emoji: "👍", on: true });
		let update = await reader.nextOf("reactions");
		if ((update.reactions[0]?.count ?? 0) < 2) update = await reader.nextOf("reactions");
		expect(update.reactions).toEqual([{ emoji: "👍", count: 2, names: ["ann", "ann"], userIds: ["u-ann", "u-twin"] }]);
		reader.send({ type: "react", id: message.id, emoji: "👍", on: true });
		expect(await reader.nextOf("error")).toMatchObject({ code: "forbidden" });
		// Reading and paging are for read-only tokens too.
		reader.send({ type: "read", id: message.id });
		reader.send({ type: "history", before: 99 });
		expect((await reader.nextOf("history")).entries).toMatchObject([{ id: message.id, reactions: [{ count: 2 }] }]);
	});
});
