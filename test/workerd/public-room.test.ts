/**
 * A public room read as an attacker would (docs/operating.md, "Running a public room"): each attack is
 * played against the real room, and the test shows what the attacker gets (nothing stored, a
 * budget that stops, a clientId that stays its owner's, messages that history keeps) and that
 * everyone else lost nothing. Flood control is off in this project (burst tests send fast); the
 * frame budget and the shipped limits are in limits/public-room.test.ts.
 */
import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { entryBytes } from "../../src/room/log-reader.ts";
import { CONNECTION_HISTORY_BYTES, HISTORY_BYTES, REACTION_SUMMARY_BYTES } from "../../src/wire/limits.ts";
import type { LogEntry } from "../../src/wire/log-entries.ts";
import type { HistoryEvent } from "../../src/wire/protocol.ts";
import { freshRoom, inRoom, stubFor } from "./rooms.ts";
import { connect, connectRich, type RichClient } from "./sockets.ts";

/** What a room's object keeps: its tables, its key-value pairs, its alarm. */
function keptBy(room: string) {
	return runInDurableObject(stubFor(room), async (_instance, state) => ({
		tables: state.storage.sql
			.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
			.toArray()
			.map((row) => row.name),
		keys: [...state.storage.kv.list()].length,
		alarm: await state.storage.getAlarm(),
	}));
}

const nothing = { tables: [], keys: 0, alarm: null };

/** The bytes a list of entries takes on the wire. */
const bytesOf = (entries: readonly LogEntry[]) => entries.reduce((sum, entry) => sum + entryBytes(entry), 0);

/** `count` long messages (2,000 emoji: 8 kB each) from `client`, all stored. */
async function sayLong(client: RichClient, count: number): Promise<void> {
	for (let i = 1; i < count; i++)
		client.send({ type: "send", clientId: `long${i}`, text: `${i} ${"😀".repeat(1_990)}` });
	await client.say(`${count} ${"😀".repeat(1_990)}`, `long${count}`);
}

describe("nothing is stored until something is worth storing", () => {
	it("asking about a room, its stats, and sockets that come and go without a word leave no table, key or alarm", async () => {
		const room = freshRoom("idle");
		const ask = await exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket`);
		expect(ask.status).toBe(426);
		const stats = await exports.default.fetch(`http://chat.test/api/rooms/${room}`);
		expect(await stats.json()).toMatchObject({ connections: 0, latestId: 0 });
		// The Worker's own answers are never to be read as anything but what they say.
		for (const answer of [ask, stats]) expect(answer.headers.get("X-Content-Type-Options")).toBe("nosniff");
		expect(await keptBy(room)).toEqual(nothing);
		// A rich client joins and leaves, a plain one comes and goes, a typist types.
		const visitor = await connectRich(room, "visitor");
		const plain = await connect(room);
		visitor.send({ type: "typing" });
		expect((await keptBy(room)).alarm).not.toBeNull(); // the liveness sweep, while they are here
		await visitor.close();
		plain.socket.close(1000, "bye");
		await plain.closed;
		await expect.poll(() => keptBy(room), { timeout: 5_000 }).toEqual(nothing);
	});

	it("keeps what a message makes worth keeping after everyone has gone, and reads it back", async () => {
		const room = freshRoom("kept");
		const ann = await connectRich(room, "ann");
		await ann.say("worth keeping");
		await ann.close();
		await expect.poll(() => inRoom(room, (r) => r.connectionCount()), { timeout: 5_000 }).toBe(0);
		expect((await keptBy(room)).tables).toContain("messages");
		const bob = await connectRich(room, "bob");
		expect(bob.welcome.history.map((entry) => ("text" in entry ? entry.text : null))).toEqual(["worth keeping"]);
	});
});

describe("clientId belongs to its sender", () => {
	it("stores another sender's message under the same clientId as its own; the owner's resend is still the owner's", async () => {
		const room = freshRoom("client-ids");
		const mallory = await connectRich(room, "mallory");
		const ann = await connectRich(room, "ann");
		const taken = await mallory.say("first with ann's id", "ann-s-id");
		/** Ann's own message with that id, as she is echoed it (mallory's is broadcast to her too). */
		const annSays = async (text: string) => {
			ann.send({ type: "send", clientId: "ann-s-id", text });
			for (;;) {
				const message = await ann.nextOf("message");
				if (message.clientId === "ann-s-id" && message.name === "ann") return message;
			}
		};
		const own = await annSays("ann's real words");
		expect(own).toMatchObject({ text: "ann's real words", name: "ann", clientId: "ann-s-id" });
		expect(own.id).toBe(taken.id + 1);
		// A retry by ann is hers, never mallory's.
		expect(await annSays("ann's real words, sent again")).toEqual(own);
	});
});

describe("budgets in bytes", () => {
	it("stops a fresh welcome and a page of long rows at HISTORY_BYTES, saying more where the page stops", async () => {
		const room = freshRoom("long-rows");
		const ann = await connectRich(room, "ann");
		await sayLong(ann, 50);
		const bob = await connectRich(room, "bob");
		const { history } = bob.welcome;
		expect(history.length).toBeGreaterThan(1);
		expect(history.length).toBeLessThan(50);
		expect(bytesOf(history)).toBeLessThanOrEqual(HISTORY_BYTES);
		expect(history.at(-1)?.id).toBe(50);
		bob.send({ type: "history", before: history[0]?.id, limit: 100 });
		const page = await bob.nextOf("history");
		expect(page.more).toBe(true);
		expect(bytesOf(page.entries)).toBeLessThanOrEqual(HISTORY_BYTES);
		expect(page.entries.at(-1)?.id).toBe((history[0]?.id ?? 0) - 1);
	});

	it("answers one connection's ten pages of one burst within CONNECTION_HISTORY_BYTES, the rest later", async () => {
		const room = freshRoom("many-pages");
		const ann = await connectRich(room, "ann");
		await sayLong(ann, 60);
		const reader = await connectRich(room, "reader");
		for (let i = 0; i < 10; i++) reader.send({ type: "history", before: 61 - i, limit: 100 });
		const pages: HistoryEvent[] = [];
		while (pages.length < 10) pages.push(await reader.nextOf("history"));
		const answered = pages.filter((page) => page.retryAfterMs === undefined);
		const later = pages.filter((page) => page.retryAfterMs !== undefined);
		expect(later.length).toBeGreaterThan(0);
		for (const page of later) expect(page).toMatchObject({ entries: [], more: true });
		const bytes = answered.reduce((sum, page) => sum + bytesOf(page.entries), 0);
		// The last page answered may overshoot by what it carried; none after it was read.
		expect(bytes - bytesOf(answered.at(-1)?.entries ?? [])).toBeLessThan(CONNECTION_HISTORY_BYTES);
	});

	it("lists who reacted within REACTION_SUMMARY_BYTES, with every count right", async () => {
		const room = freshRoom("reactors");
		const ann = await connectRich(room, "ann");
		const target = await ann.say("react to me");
		const emoji = [
			"👍",
			"❤️",
			"😂",
			"😮",
			"😢",
			"🎉",
			"🔥",
			"👀",
			"🙏",
			"💯",
			"✅",
			"🚀",
			"🤔",
			"👏",
			"🥳",
			"😎",
			"🤝",
			"💡",
			"🌟",
			"🍕",
		];
		const names = Array.from({ length: 10 }, (_, i) => `${"𝕨".repeat(30)}${i}`);
		const reactors = await Promise.all(names.map((name) => connectRich(room, name)));
		for (const reactor of reactors)
			for (const one of emoji) reactor.send({ type: "react", id: target.id, emoji: one, on: true });
		// Every reaction counted once they are all in (each reactions event says them all).
		for (;;) {
			const event = await ann.nextOf("reactions");
			const bytes = new TextEncoder().encode(JSON.stringify(event.reactions.flatMap((r) => r.names))).length;
			expect(bytes).toBeLessThanOrEqual(REACTION_SUMMARY_BYTES + 2);
			if (event.reactions.reduce((sum, reaction) => sum + reaction.count, 0) === 200) break;
		}
		const late = await connectRich(room, "late");
		const row = late.welcome.history.find((entry) => entry.id === target.id);
		const reactions = row && "reactions" in row ? (row.reactions ?? []) : [];
		expect(reactions).toHaveLength(20);
		for (const reaction of reactions) expect(reaction.count).toBe(10);
		const listed = reactions.flatMap((reaction) => reaction.names);
		expect(listed.length).toBeGreaterThan(0);
		expect(listed.length).toBeLessThan(200);
		const summaryBytes = new TextEncoder().encode(JSON.stringify(listed)).length;
		expect(summaryBytes).toBeLessThanOrEqual(REACTION_SUMMARY_BYTES + 2);
		// The rest on request: everyone who reacted with an emoji, in the order they did.
		const last = reactions.at(-1) as (typeof reactions)[number];
		expect(last.names.length).toBeLessThan(10);
		late.send({ type: "reactors", id: target.id, emoji: last.emoji });
		expect(await late.nextOf("reactors")).toEqual({
			type: "reactors",
			id: target.id,
			emoji: last.emoji,
			offset: 0,
			reactors: names.map((name) => ({ name })),
			more: false,
		});
		late.send({ type: "reactors", id: target.id, emoji: last.emoji, offset: 9 });
		expect((await late.nextOf("reactors")).reactors).toEqual([{ name: names[9] }]);
		late.send({ type: "reactors", id: target.id, emoji: "x" });
		expect(await late.nextOf("error")).toMatchObject({ code: "bad_emoji" });
	});
});
