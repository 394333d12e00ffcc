import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PING, PONG, SUBPROTOCOL } from "../../public/contract.js";
import { WELCOME_MEMBERS } from "../../src/wire/limits.ts";
import { freshRoom, inRoom, stubFor } from "./rooms.ts";
import { connect, connectRich, connectRichRaw, textOf } from "./sockets.ts";

describe("negotiation", () => {
	it("selects edgechat.v1 when it is offered alone", async () => {
		const client = await connect(freshRoom(), SUBPROTOCOL);
		expect(client.protocol).toBe(SUBPROTOCOL);
	});

	it("selects edgechat.v1 from among other offers", async () => {
		const client = await connect(freshRoom(), `chat.other, ${SUBPROTOCOL}, x`);
		expect(client.protocol).toBe(SUBPROTOCOL);
	});

	it("selects nothing when only unknown subprotocols are offered (RFC 6455 4.2.2), leaving a plain connection", async () => {
		const room = freshRoom();
		const client = await connect(room, "chat.other, edgechat.v2");
		expect(client.protocol).toBeNull();
		client.socket.send("plain text");
		expect(await client.next()).toBe("plain text");
	});
});

describe("history", () => {
	it("gives every message a strictly increasing id, the same for every recipient", async () => {
		const room = freshRoom();
		const alice = await connectRich(room, "alice");
		const bob = await connectRich(room, "bob");
		const ids: number[] = [];
		for (let i = 0; i < 5; i++) ids.push((await (i % 2 ? bob : alice).say(`m${i}`)).id);
		expect(ids).toEqual([1, 2, 3, 4, 5]);
		const seenByBob: number[] = [];
		// bob saw alice's and his own, in id order.
		const carol = await connectRich(room, "carol");
		for (const message of carol.welcome.history) seenByBob.push(message.id);
		expect(seenByBob).toEqual(ids);
	});

	it("stores author, text and timestamp, and replays them to a newcomer", async () => {
		const room = freshRoom();
		const alice = await connectRich(room, "alice");
		const before = Date.now();
		const sent = await alice.say("hello there");
		expect(sent).toMatchObject({ type: "message", id: 1, name: "alice", text: "hello there" });
		expect(sent.ts).toBeGreaterThanOrEqual(before - 1000);
		const bob = await connectRich(room, "bob");
		expect(bob.welcome.history).toEqual([
			{ id: 1, clientId: sent.clientId, name: "alice", text: "hello there", ts: sent.ts },
		]);
		expect(bob.welcome.latestId).toBe(1);
		expect(bob.welcome.gap).toBe(false);
	});

	it("replays only the newest 50 (HISTORY_REPLAY) to a newcomer without since", async () => {
		const room = freshRoom();
		const alice = await connectRich(room, "alice");
		for (let i = 1; i <= 60; i++) alice.send({ type: "send", clientId: `c${i}`, text: `n${i}` });
		await alice.say("last", "c61");
		const bob = await connectRich(room, "bob");
		expect(bob.welcome.history).toHaveLength(50);
		expect(bob.welcome.history[0]?.id).toBe(12);
		expect(bob.welcome.history.at(-1)?.id).toBe(61);
	});

	it("resumes from an id with exactly the missed range, in order, then live messages", async () => {
		const room = freshRoom();
		const alice = await connectRich(room, "alice");
		for (let i = 1; i <= 10; i++) await alice.say(`m${i}`);
		const bob = await connectRich(room, "bob", 4);
		expect(bob.welcome.history.map((m) => m.id)).toEqual([5, 6, 7, 8, 9, 10]);
		expect(bob.welcome.gap).toBe(false);
		await alice.say("m11");
		expect((await bob.nextOf("message")).id).toBe(11);
	});

	it("resuming at the latest id replays nothing and reports no gap", async () => {
		const room = freshRoom();
		const alice = await connectRich(room, "alice");
		await alice.say("only");
		const bob = await connectRich(room, "bob", 1);
		expect(bob.welcome.history).toEqual([]);
		expect(bob.welcome.gap).toBe(false);
	});

	it("keeps at most 10,000 messages (HISTORY_RETENTION), dropping the oldest; a resume past them gets a gap and the newest", async () => {
		const room = freshRoom();
		const alice = await connectRich(room, "alice");
		for (let i = 1; i < 10_005; i++) alice.send({ type: "send", clientId: `r${i}`, text: `r${i}` });
		await alice.say("r10005", "r10005");
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(10_000);
		const bob = await connectRich(room, "bob", 2);
		// The gap is said, and the welcome is that of a fresh join: the newest HISTORY_REPLAY (50).
		expect(bob.welcome.gap).toBe(true);
		expect(bob.welcome.history.map((entry) => entry.id)).toEqual(Array.from({ length: 50 }, (_, i) => 9_956 + i));
		expect(bob.welcome.more).toBeUndefined();
		// Scroll-back reaches the oldest retained message, and no further.
		bob.send({ type: "history", before: 7, limit: 100 });
		expect(await bob.nextOf("history")).toMatchObject({ before: 7, entries: [{ id: 6 }], more: false });
	});

	it("reports a gap, with the newest messages, when since is newer than anything the room has", async () => {
		const room = freshRoom();
		const alice = await connectRich(room, "alice");
		await alice.say("one");
		const bob = await connectRich(room, "bob", 99);
		expect(bob.welcome.gap).toBe(true);
		expect(bob.welcome.history.map(textOf)).toEqual(["one"]);
	});

	it("stores a message once when its clientId is sent again, and repeats it to the sender only", async () => {
		const room = freshRoom();
		const alice = await connectRich(room, "alice");
		const bob = await connectRich(room, "bob");
		const first = await alice.say("once", "same-id");
		expect((await bob.nextOf("message")).id).toBe(first.id);
		const again = await alice.say("once (retried)", "same-id");
		expect(again).toEqual(first);
		const marker = await alice.say("marker");
		// bob's next message is the marker: the retry never reached him.
		expect((await bob.nextOf("message")).id).toBe(marker.id);
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(2);
	});
});

describe("presence", () => {
	it("gives a joiner the member list and tells everyone of joins and leaves", async () => {
		const room = freshRoom();
		const alice = await connectRich(room, "alice");
		expect(alice.welcome.members).toEqual(["alice"]);
		const bob = await connectRich(room, "bob");
		expect(bob.welcome.members).toEqual(["alice", "bob"]);
		expect(await alice.nextOf("join")).toEqual({ type: "join", name: "bob" });
		await bob.close();
		expect(await alice.nextOf("leave")).toEqual({ type: "leave", name: "bob" });
		expect(await inRoom(room, (r) => r.memberNames())).toEqual(["alice"]);
	});

	it("lists a name with two tabs once, and lets it leave only with its last tab", async () => {
		const room = freshRoom();
		const watcher = await connectRich(room, "watcher");
		const tab1 = await connectRich(room, "dana");
		const tab2 = await connectRich(room, "dana");
		expect(tab2.welcome.members).toEqual(["dana", "watcher"]);
		expect(await watcher.nextOf("join")).toEqual({ type: "join", name: "dana" });
		await tab1.close();
		// No leave yet: a message from dana's other tab arrives next, not a leave.
		await tab2.say("still here");
		expect(await watcher.nextEvent()).toMatchObject({ type: "message", name: "dana" });
		await tab2.close();
		expect(await watcher.nextEvent()).toEqual({ type: "leave", name: "dana" });
	});

	it("lists at most WELCOME_MEMBERS names in a welcome, the first to arrive, and counts them all", async () => {
		const room = freshRoom("crowd");
		const names = Array.from({ length: WELCOME_MEMBERS + 1 }, (_, i) => `m${String(i).padStart(3, "0")}`);
		for (const name of names) await connectRich(room, name);
		const late = await connectRich(room, "zz-late");
		expect(late.welcome.memberCount).toBe(WELCOME_MEMBERS + 2);
		expect(late.welcome.members).toEqual(names.slice(0, WELCOME_MEMBERS));
	});

	it("shows plain clients as guest", async () => {
		const room = freshRoom();
		const plain = await connect(room);
		const alice = await connectRich(room, "alice");
		expect(alice.welcome.members).toEqual(["alice", "guest"]);
		plain.socket.close(1000);
		expect(await alice.nextOf("leave")).toEqual({ type: "leave", name: "guest" });
	});

	it("drops a member that closes with an application code", async () => {
		const room = freshRoom();
		const alice = await connectRich(room, "alice");
		const bob = await connectRich(room, "bob");
		await alice.nextOf("join");
		bob.raw.socket.close(4000, "abrupt");
		expect(await alice.nextOf("leave")).toEqual({ type: "leave", name: "bob" });
	});
});

describe("eviction", () => {
	it("loses nothing when the room is evicted between every step: names, presence, history, ids", async () => {
		const room = freshRoom();
		const stub = stubFor(room);
		const alice = await connectRich(room, "alice");
		await evictDurableObject(stub);
		const bob = await connectRich(room, "bob");
		expect(bob.welcome.members).toEqual(["alice", "bob"]);
		await evictDurableObject(stub);
		expect((await alice.say("one")).id).toBe(1);
		await evictDurableObject(stub);
		const fromBob = await bob.say("two");
		expect(fromBob).toMatchObject({ id: 2, name: "bob" });
		await evictDurableObject(stub);
		// The retry of an already stored message is still recognised after eviction.
		expect(await bob.say("two again", fromBob.clientId ?? "")).toEqual(fromBob);
		await evictDurableObject(stub);
		expect(await inRoom(room, (r) => r.memberNames())).toEqual(["alice", "bob"]);
		await evictDurableObject(stub);
		const carol = await connectRich(room, "carol", 0);
		expect(carol.welcome.history.map((m) => [m.id, "name" in m ? m.name : null, textOf(m)])).toEqual([
			[1, "alice", "one"],
			[2, "bob", "two"],
		]);
		await evictDurableObject(stub);
		await alice.close();
		await evictDurableObject(stub);
		expect(await inRoom(room, (r) => r.memberNames())).toEqual(["bob", "carol"]);
		expect((await carol.say("three")).id).toBe(3);
	});
});

describe("typing", () => {
	it("tells the others (not the typer), throttled, and is never stored", async () => {
		const room = freshRoom();
		const alice = await connectRich(room, "alice");
		const bob = await connectRich(room, "bob");
		await alice.nextOf("join");
		alice.send({ type: "typing" });
		alice.send({ type: "typing" }); // within the throttle interval: dropped
		const sent = await alice.say("done typing");
		expect(await bob.nextEvent()).toEqual({ type: "typing", name: "alice" });
		expect(await bob.nextEvent()).toMatchObject({ type: "message", id: sent.id });
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(1);
		// The room passes each name's typing on at most once per 2 s, sending or not.
		alice.send({ type: "typing" });
		const second = await alice.say("second");
		expect(await bob.nextEvent()).toMatchObject({ type: "message", id: second.id });
	});

	it("passes on typing for at most 5 names per 2 s in the whole room", async () => {
		const room = freshRoom();
		const watcher = await connectRich(room, "watcher");
		const typists = [];
		for (let i = 0; i < 7; i++) typists.push(await connectRich(room, `t${i}`));
		for (const typist of typists) typist.send({ type: "typing" });
		watcher.send({ type: "send", clientId: "after", text: "after the typing" });
		const seen = [];
		for (;;) {
			const event = await watcher.nextEvent();
			if (event.type === "message" && event.clientId === "after") break;
			if (event.type === "typing") seen.push(event.name);
		}
		expect(seen).toEqual(["t0", "t1", "t2", "t3", "t4"]);
	});

	it("does not pass typing on again within 2 s of the last notice, even after a message", async () => {
		const room = freshRoom();
		const bob = await connectRich(room, "bob");
		const alice = await connectRich(room, "alice");
		// Sent back to back, so the room sees all four well within one 2 s interval.
		for (const event of [{ type: "typing" }, { type: "send", clientId: "first", text: "first" }, { type: "typing" }]) {
			alice.send(event);
		}
		alice.send({ type: "send", clientId: "second", text: "second" });
		expect(await bob.nextOf("typing")).toEqual({ type: "typing", name: "alice" });
		expect(await bob.nextEvent()).toMatchObject({ type: "message", clientId: "first" });
		// The second typing was dropped: the next thing bob hears is the second message.
		expect(await bob.nextEvent()).toMatchObject({ type: "message", clientId: "second" });
	});
});

describe("open mode (no AUTH_SECRET)", () => {
	it("refuses edits, deletes, kicks and bans: there is no identity to check them against", async () => {
		const room = freshRoom();
		const alice = await connectRich(room, "alice");
		const said = await alice.say("mine?");
		for (const command of [
			{ type: "edit", id: said.id, text: "changed" },
			{ type: "delete", id: said.id },
			{ type: "kick", userId: "bob" },
			{ type: "ban", userId: "bob", seconds: 60 },
		]) {
			alice.send(command);
			expect(await alice.nextOf("error")).toMatchObject({
				code: "forbidden",
				message: `'${command.type}' needs signed identity (AUTH_SECRET)`,
			});
		}
		expect(alice.welcome.userId).toBeUndefined();
		expect(said.userId).toBeUndefined();
	});
});

describe("interop", () => {
	it("shows plain messages to rich clients as guest, and rich messages to plain clients as 'name: text'", async () => {
		const room = freshRoom();
		const plain = await connect(room);
		const alice = await connectRich(room, "alice");
		plain.socket.send("hi from the tutorial");
		expect(await plain.next()).toBe("hi from the tutorial");
		expect(await alice.nextOf("message")).toMatchObject({
			name: "guest",
			text: "hi from the tutorial",
			clientId: null,
		});
		await alice.say("hello guest");
		expect(await plain.next()).toBe("alice: hello guest");
	});

	it("does not send binary to rich clients; plain clients still get it", async () => {
		const room = freshRoom();
		const plainA = await connect(room);
		const plainB = await connect(room);
		const alice = await connectRich(room, "alice");
		plainA.socket.send(new Uint8Array([1, 2, 3]).buffer);
		expect(new Uint8Array((await plainB.next()) as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));
		plainA.socket.send("text after");
		expect(await alice.nextOf("message")).toMatchObject({ text: "text after" });
		expect(alice.raw.received.every((frame) => typeof frame === "string")).toBe(true);
	});
});

describe("heartbeat", () => {
	it("answers the documented ping with pong, without waking the room", async () => {
		const room = freshRoom();
		const alice = await connectRich(room, "alice");
		await evictDurableObject(stubFor(room));
		expect(await alice.ping()).toBe(PONG);
		expect(PING).toBe('{"type":"ping"}');
		// The runtime's own signal: evicting refuses an object that is not running, so the room
		// is still evicted after answering the ping.
		await expect(evictDurableObject(stubFor(room))).rejects.toThrow(/Cannot evict Durable Object: it is no/);
		// A chat message, by contrast, wakes it (and then it can be evicted again).
		await alice.say("wake up");
		await evictDurableObject(stubFor(room));
	});
});

describe("bad input on a rich connection", () => {
	const cases: [string, string | ArrayBuffer, string][] = [
		["malformed JSON", "{not json", "bad_json"],
		["a JSON array", "[1,2]", "bad_event"],
		["a JSON string", '"hello"', "bad_event"],
		["a missing type", '{"text":"x"}', "bad_event"],
		["an unknown type", '{"type":"shout","text":"x"}', "unknown_type"],
		["a numeric text", '{"type":"send","clientId":"a","text":5}', "bad_text"],
		["an empty text", '{"type":"send","clientId":"a","text":"  "}', "bad_text"],
		["an oversize text", JSON.stringify({ type: "send", clientId: "a", text: "x".repeat(2_001) }), "text_too_long"],
		["a bad clientId", '{"type":"send","clientId":"no spaces allowed","text":"x"}', "bad_event"],
		["a second hello", '{"type":"hello","name":"again"}', "already_joined"],
		["a binary frame", new Uint8Array([1, 2]).buffer, "binary_unsupported"],
	];
	it.each(cases)(
		"answers %s with a documented error; nothing reaches others or storage; the connection stays usable",
		async (_, frame, code) => {
			const room = freshRoom();
			const alice = await connectRich(room, "alice");
			const bob = await connectRich(room, "bob");
			await alice.nextOf("join");
			alice.raw.socket.send(frame);
			const error = await alice.nextOf("error");
			expect(error.code).toBe(code);
			expect(error.message).toEqual(expect.any(String));
			const ok = await alice.say("still fine");
			expect(await bob.nextEvent()).toMatchObject({ type: "message", id: ok.id, text: "still fine" });
			expect(ok.id).toBe(1);
			expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(1);
		},
	);

	it.each([
		["an empty name", "   "],
		["a 33-character name", "n".repeat(33)],
		["a control character", "bad\u0007name"],
		["a bidi override", "evil\u202Eeman"],
		["a zero-width space", "zero\u200Bwidth"],
		["a lone surrogate", "half\uD800"],
		["a number", 42],
	])("refuses a hello with %s (bad_name) and lets the client try again", async (_, name) => {
		const room = freshRoom();
		const { raw, nextEvent } = await connectRichRaw(room);
		raw.socket.send(JSON.stringify({ type: "hello", name }));
		expect(await nextEvent()).toMatchObject({ type: "error", code: "bad_name" });
		raw.socket.send(JSON.stringify({ type: "send", clientId: "x", text: "too early" }));
		expect(await nextEvent()).toMatchObject({ type: "error", code: "not_joined" });
		raw.socket.send(JSON.stringify({ type: "hello", name: "  Zoë  " }));
		expect(await nextEvent()).toMatchObject({ type: "welcome", name: "Zoë", members: ["Zoë"] });
	});

	it("accepts a 32-code-point name of emoji, joiners inside emoji sequences included", async () => {
		const room = freshRoom();
		const family = "👨‍👩‍👧";
		const alice = await connectRich(room, `${"😀".repeat(27)}${family}`);
		expect(alice.welcome.name).toBe(`${"😀".repeat(27)}${family}`);
	});
});
