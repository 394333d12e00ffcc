/**
 * The conversation on one object (PROTOCOL.md, "History", "Replies", "Reactions", "Mentions"):
 * long messages, scroll-back and catching up, replies, reactions, mentions. The same across
 * shards and in signed mode is in shards/conversation.test.ts and auth/reads.test.ts.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Room } from "../../src/room/room.ts";
import type { Reaction } from "../../src/wire/log-entries.ts";
import type { HistoryEvent } from "../../src/wire/protocol.ts";
import { freshRoom, inRoom, stubFor } from "./rooms.ts";
import { connect, connectRich, type RichClient, textOf } from "./sockets.ts";

/** Sends a history request and resolves with the answer. */
async function page(client: RichClient, request: object): Promise<HistoryEvent> {
	client.send({ type: "history", ...request });
	return client.nextOf("history");
}

/** `count` messages from `client`, all stored. */
async function sayMany(client: RichClient, count: number, prefix = "many"): Promise<void> {
	for (let i = 1; i < count; i++) client.send({ type: "send", clientId: `${prefix}${i}`, text: `${prefix}${i}` });
	await client.say(`${prefix}${count}`, `${prefix}${count}`);
}

describe("longer messages", () => {
	it("takes RICH_MESSAGE_CAP (2,000) code points with line breaks from a rich client, and a plain client gets all of it", async () => {
		expect(env.RICH_MESSAGE_CAP).toBe("2000");
		const room = freshRoom();
		const plain = await connect(room);
		const ann = await connectRich(room, "ann");
		const text = `first line\nsecond line\n${"é".repeat(2_000 - 23)}`;
		expect([...text]).toHaveLength(2_000);
		expect((await ann.say(text)).text).toBe(text);
		// The tutorial's client sends at most MESSAGE_CAP (50), but is shown a rich message whole.
		expect(await plain.next()).toBe(`ann: ${text}`);
	});
});

describe("history", () => {
	it("pages back through every message, 100 at most a page, oldest first, and says where it ends", async () => {
		const room = freshRoom();
		const ann = await connectRich(room, "ann");
		await sayMany(ann, 250);
		const newest = await page(ann, { before: 251, limit: 100 });
		expect(newest.entries.map((entry) => entry.id)).toEqual(Array.from({ length: 100 }, (_, i) => 151 + i));
		expect(newest.more).toBe(true);
		const oldest = await page(ann, { before: 51 });
		expect(oldest.entries.map(textOf)).toEqual(Array.from({ length: 50 }, (_, i) => `many${i + 1}`));
		expect(oldest.more).toBe(false);
		ann.send({ type: "history", before: 10, limit: 101 });
		expect(await ann.nextOf("error")).toMatchObject({ code: "bad_event" });
		ann.send({ type: "history", before: 10, after: 2 });
		expect(await ann.nextOf("error")).toMatchObject({ code: "bad_event" });
	});

	it("bounds a resuming welcome and lets the client catch up with pages forward, with no gap and nothing twice", async () => {
		const room = freshRoom();
		const ann = await connectRich(room, "ann");
		await sayMany(ann, 5);
		const bob = await connectRich(room, "bob");
		await bob.close();
		await sayMany(ann, 230, "later");
		const back = await connectRich(room, "bob", 5);
		expect(back.welcome).toMatchObject({ gap: false, more: true, latestId: 235 });
		const seen = back.welcome.history.map((entry) => entry.id);
		expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => 6 + i));
		// Meanwhile the room goes on: live messages come after the welcome's latestId.
		const live = await ann.say("live", "live");
		const liveIds: number[] = [];
		let after = seen.at(-1) as number;
		while (after < back.welcome.latestId) {
			back.send({ type: "history", after, limit: 100 });
			for (;;) {
				const event = await back.nextEvent();
				if (event.type === "message") liveIds.push(event.id);
				if (event.type !== "history") continue;
				seen.push(...event.entries.filter((entry) => entry.id <= back.welcome.latestId).map((entry) => entry.id));
				after = event.entries.at(-1)?.id ?? after;
				expect(event.more).toBe(after < live.id);
				break;
			}
		}
		expect(seen).toEqual(Array.from({ length: 230 }, (_, i) => 6 + i));
		expect(liveIds).toEqual([live.id]);
	});
});

describe("the pace of history pages", () => {
	it("answers 10 pages at once, then an empty page saying when to ask again, and costs no message allowance", async () => {
		const room = freshRoom();
		const ann = await connectRich(room, "ann");
		await ann.say("one", "one");
		for (let i = 0; i < 11; i++) ann.send({ type: "history", before: 99 - i });
		const pages = [];
		while (pages.length < 11) pages.push(await ann.nextOf("history"));
		const paced = pages.filter((page) => page.retryAfterMs !== undefined);
		expect(paced).toHaveLength(1);
		expect(paced[0]).toMatchObject({ before: 89, entries: [], more: true });
		expect(paced[0]?.retryAfterMs).toBeGreaterThan(0);
		expect(pages.filter((page) => page.entries.length === 1)).toHaveLength(10);
	});
});

describe("replies", () => {
	it("carries the original's author and an excerpt, so a quote shows without the original at hand", async () => {
		const room = freshRoom();
		const ann = await connectRich(room, "ann");
		const bob = await connectRich(room, "bob");
		const original = await ann.say(`a question ${"?".repeat(150)}`);
		bob.send({ type: "send", clientId: "r1", text: "an answer", replyTo: original.id });
		const reply = await ann.nextOf("message");
		expect(reply).toMatchObject({ text: "an answer", replyTo: { id: original.id, name: "ann" } });
		expect(reply.replyTo?.excerpt).toBe(`a question ${"?".repeat(89)}…`);
		// And as it is stored: a late joiner's welcome has it too.
		const cat = await connectRich(room, "cat");
		expect(cat.welcome.history.at(-1)).toMatchObject({ id: reply.id, replyTo: { id: original.id } });
	});

	it("refuses a reply to a message the room does not hold, with the send's clientId", async () => {
		const room = freshRoom();
		const ann = await connectRich(room, "ann");
		ann.send({ type: "send", clientId: "r1", text: "to nothing", replyTo: 42 });
		expect(await ann.nextOf("error")).toMatchObject({ code: "not_found", clientId: "r1" });
		ann.send({ type: "send", clientId: "r2", text: "bad id", replyTo: "1" });
		expect(await ann.nextOf("error")).toMatchObject({ code: "bad_event", clientId: "r2" });
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(0);
	});
});

describe("reactions", () => {
	it("adds and takes back a member's reaction, each once however often it is sent, and everyone sees the count", async () => {
		const room = freshRoom();
		const ann = await connectRich(room, "ann");
		const bob = await connectRich(room, "bob");
		const message = await ann.say("react to me");
		bob.send({ type: "react", id: message.id, emoji: "👍", on: true });
		const first = await ann.nextOf("reactions");
		expect(first).toMatchObject({ target: message.id, reactions: [{ emoji: "👍", count: 1, names: ["bob"] }] });
		expect(first.id).toBeGreaterThan(message.id);
		expect(await bob.nextOf("reactions")).toEqual(first);
		// Sent again: nothing changes, so nothing is sent; ann's own goes next.
		bob.send({ type: "react", id: message.id, emoji: "👍", on: true });
		ann.send({ type: "react", id: message.id, emoji: "👍", on: true });
		expect((await bob.nextOf("reactions")).reactions).toEqual([{ emoji: "👍", count: 2, names: ["bob", "ann"] }]);
		expect((await ann.nextOf("reactions")).reactions).toEqual([{ emoji: "👍", count: 2, names: ["bob", "ann"] }]);
		bob.send({ type: "react", id: message.id, emoji: "👍", on: false });
		expect((await ann.nextOf("reactions")).reactions).toEqual([{ emoji: "👍", count: 1, names: ["ann"] }]);
		// A late joiner sees the message with its reactions as they stand.
		const cat = await connectRich(room, "cat");
		expect(cat.welcome.history.find((entry) => entry.id === message.id)).toMatchObject({
			reactions: [{ emoji: "👍", count: 1, names: ["ann"] }],
		});
	});

	it("sends one aggregated update per message per burst when many react at once", async () => {
		const room = freshRoom();
		const clients: RichClient[] = [];
		for (let i = 0; i < 6; i++) clients.push(await connectRich(room, `m${i}`));
		const watcher = clients[0] as RichClient;
		const message = await watcher.say("everyone react");
		// Every member's frame in the same turn of the room's object: one burst.
		await runInDurableObject(stubFor(room), (r: Room, state) => {
			for (const ws of state.getWebSockets()) {
				void r.webSocketMessage(ws, JSON.stringify({ type: "react", id: message.id, emoji: "🎉", on: true }));
			}
		});
		const update = await watcher.nextOf("reactions");
		expect(update.reactions).toMatchObject([{ emoji: "🎉", count: 6 }]);
		expect((update.reactions[0] as Reaction).names).toHaveLength(6);
		// One entry in the log, not six.
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(2);
	});

	it("refuses a reaction that is not one RGI emoji, to a message it does not hold, or past 20 emoji", async () => {
		const room = freshRoom();
		const ann = await connectRich(room, "ann");
		const message = await ann.say("limits");
		for (const emoji of ["", "👍👍", "x", "\u200D", "🫱🏻\u200D"]) {
			ann.send({ type: "react", id: message.id, emoji, on: true });
			expect(await ann.nextOf("error"), emoji).toMatchObject({ code: "bad_emoji" });
		}
		ann.send({ type: "react", id: 999, emoji: "👍", on: true });
		expect(await ann.nextOf("error")).toMatchObject({ code: "not_found" });
		const twenty = [
			"😀",
			"😁",
			"😂",
			"🤣",
			"😃",
			"😄",
			"😅",
			"😆",
			"😉",
			"😊",
			"😋",
			"😎",
			"😍",
			"😘",
			"🥰",
			"😗",
			"😙",
			"🥲",
			"😚",
			"🙂",
		];
		for (const emoji of twenty) ann.send({ type: "react", id: message.id, emoji, on: true });
		ann.send({ type: "react", id: message.id, emoji: "🙃", on: true });
		expect(await ann.nextOf("error")).toMatchObject({ code: "too_many_reactions" });
		// Flags, skin tones and joined sequences are one emoji each.
		for (const emoji of ["🇫🇷", "👍🏽", "👩🏽‍💻"]) ann.send({ type: "react", id: message.id, emoji, on: false });
		const bob = await connectRich(room, "bob");
		const reactions = bob.welcome.history.find((entry) => entry.id === message.id);
		expect((reactions as { reactions: Reaction[] }).reactions.map((reaction) => reaction.emoji)).toEqual(twenty);
	});
});

describe("after an eviction", () => {
	it("keeps reactions, replies and pages: the room's object is evicted between every step", async () => {
		const room = freshRoom();
		const ann = await connectRich(room, "ann");
		const bob = await connectRich(room, "bob");
		const message = await ann.say("evict me");
		await evictDurableObject(stubFor(room));
		bob.send({ type: "react", id: message.id, emoji: "👍", on: true });
		await ann.nextOf("reactions");
		await bob.nextOf("reactions");
		await evictDurableObject(stubFor(room));
		ann.send({ type: "react", id: message.id, emoji: "👍", on: true });
		expect((await bob.nextOf("reactions")).reactions).toEqual([{ emoji: "👍", count: 2, names: ["bob", "ann"] }]);
		await evictDurableObject(stubFor(room));
		bob.send({ type: "send", clientId: "r", text: "a reply", replyTo: message.id });
		expect(await ann.nextOf("message")).toMatchObject({ replyTo: { id: message.id, excerpt: "evict me" } });
		await evictDurableObject(stubFor(room));
		expect((await page(ann, { before: 99 })).entries).toMatchObject([
			{ id: message.id, reactions: [{ count: 2 }] },
			{ text: "a reply" },
		]);
	});
});

describe("mentions", () => {
	it("lists the present members a message calls by name, as the room resolved them", async () => {
		const room = freshRoom();
		const ann = await connectRich(room, "ann");
		await connectRich(room, "Ada Lovelace");
		await connectRich(room, "bob");
		const cases: [string, string[]][] = [
			["@bob look", ["bob"]],
			["hey @BOB, and @ann!", ["bob", "ann"]],
			["@Ada Lovelace: hello", ["Ada Lovelace"]],
			["@ada lovelace and @bob and @bob", ["Ada Lovelace", "bob"]],
			["mail me at x@bob", []],
			["@bobby is not here", []],
			["@nobody", []],
		];
		for (const [text, mentions] of cases) {
			const said = await ann.say(text);
			expect(said.mentions ?? [], text).toEqual(mentions);
		}
	});
});

describe("read positions in open mode", () => {
	it("refuses `read` without signed identity: the page keeps its place itself", async () => {
		const room = freshRoom();
		const ann = await connectRich(room, "ann");
		ann.send({ type: "read", id: 0 });
		expect(await ann.nextOf("error")).toMatchObject({ code: "forbidden" });
		expect(ann.welcome.readUpTo).toBeUndefined();
	});
});
