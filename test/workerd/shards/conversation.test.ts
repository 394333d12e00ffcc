/**
 * The conversation across objects (SHARD_SIZE 3: the room's own object holds the first three
 * connections, shard 1 the next three): history pages, replies, reactions and mentions asked for
 * by a client held by a shard, and seen everywhere.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { freshRoom, stubFor } from "../rooms.ts";
import { connectRich, type RichClient, roomOf } from "../sockets.ts";

describe("the conversation through a shard", () => {
	it("answers a shard client's history request with its page, and no one else", async () => {
		const room = freshRoom("history-shard");
		const { here, there } = await roomOf(room, "dan");
		const [ann, dan] = [here[0] as RichClient, there[0] as RichClient];
		for (let i = 1; i <= 5; i++) await ann.say(`m${i}`, `m${i}`);
		dan.send({ type: "history", before: 4, limit: 2 });
		expect(await dan.nextOf("history")).toMatchObject({ before: 4, entries: [{ id: 2 }, { id: 3 }], more: true });
		await ann.say("after");
		expect(ann.raw.received.some((frame) => String(frame).includes('"type":"history"'))).toBe(false);
	});

	it("carries a shard client's reply and mentions to every part, and its reactions once per burst", async () => {
		const room = freshRoom("react-shard");
		const { here, there } = await roomOf(room, "dan", "eve");
		const [ann, dan, eve] = [here[0] as RichClient, there[0] as RichClient, there[1] as RichClient];
		const question = await ann.say("who is here?");
		dan.send({ type: "send", clientId: "d1", text: "@ann me, and @eve", replyTo: question.id });
		const reply = await ann.nextOf("message");
		expect(reply).toMatchObject({ replyTo: { id: question.id, name: "ann" }, mentions: ["ann", "eve"] });
		// A burst of reactions from the shard (one call to the room): one entry, one event for each.
		await runInDurableObject(stubFor(room), (r) =>
			r.submit({
				shard: 1,
				connections: 2,
				submissions: ["dan", "eve"].map((name) => ({
					kind: "react" as const,
					from: `1/${name}`,
					name,
					userId: null,
					role: null,
					id: reply.id,
					emoji: "❤️",
					on: true,
				})),
			}),
		);
		for (const client of [ann, eve]) {
			const update = await client.nextOf("reactions");
			expect(update).toMatchObject({ target: reply.id, reactions: [{ emoji: "❤️", count: 2, names: ["dan", "eve"] }] });
		}
		const late = await connectRich(room, "fay");
		expect(late.welcome.history.find((entry) => entry.id === reply.id)).toMatchObject({
			reactions: [{ emoji: "❤️", count: 2 }],
		});
		// Reactions go on the log: one entry for the burst, after the two messages.
		expect(late.welcome.latestId).toBe(reply.id + 1);
		expect(dan.welcome.name).toBe("dan");
	});

	it("answers a history request sent just before the shard client's Close, before the Close", async () => {
		const room = freshRoom("history-close");
		const { here, there } = await roomOf(room, "dan");
		const [ann, dan] = [here[0] as RichClient, there[0] as RichClient];
		await ann.say("one", "one");
		dan.send({ type: "history", before: 99 });
		dan.raw.socket.close(1000, "bye");
		expect(await dan.raw.closed).toMatchObject({ code: 1000 });
		const history = dan.raw.received
			.map((frame) => JSON.parse(String(frame)))
			.find((event) => event.type === "history");
		expect(history).toMatchObject({ entries: [{ id: 1, text: "one" }] });
	});
});
