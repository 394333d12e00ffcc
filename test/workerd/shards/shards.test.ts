/**
 * One room across several objects, with SHARD_SIZE 3 (vitest.config.ts): the room's own object
 * holds the first three connections, shard 1 the next three, shard 2 the rest. Every client
 * connects through the real Worker, so the placement is the product's own.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RoomShard } from "../../../src/shard/shard.ts";
import { shardObjectName } from "../../../src/wire/placement.ts";
import type { RoomStats } from "../../../src/wire/rpc.ts";
import { freshRoom, stubFor } from "../rooms.ts";
import { connect, connectRich, type RichClient, type TestClient, textOf } from "../sockets.ts";

/** The stub of shard `shard` of `room`. */
function shardStub(room: string, shard: number): DurableObjectStub<RoomShard> {
	return env.SHARDS.get(env.SHARDS.idFromName(shardObjectName(room, shard)));
}

/** `GET /api/rooms/NAME`, through the Worker. */
async function statsOf(room: string): Promise<RoomStats> {
	const response = await exports.default.fetch(`http://chat.test/api/rooms/${room}`);
	expect(response.status).toBe(200);
	return response.json();
}

/** Rich clients joined in turn (so the first three are the room object's). */
async function joinAll(room: string, names: string[]): Promise<RichClient[]> {
	const clients: RichClient[] = [];
	for (const name of names) clients.push(await connectRich(room, name));
	return clients;
}

/** The next `count` message events a rich client gets (other events skipped). */
async function messages(client: RichClient, count: number) {
	const got = [];
	while (got.length < count) got.push(await client.nextOf("message"));
	return got;
}

/** The next `count` text frames a plain client gets. */
async function texts(client: TestClient, count: number): Promise<string[]> {
	const got: string[] = [];
	while (got.length < count) got.push(String(await client.next()));
	return got;
}

/** Resets one object: its in-memory state and sockets are gone, its storage stays. */
async function reset(stub: DurableObjectStub): Promise<void> {
	await expect(runInDurableObject(stub, (_instance, state) => state.abort("reset for a test"))).rejects.toThrow();
}

describe("placement", () => {
	it("keeps the first SHARD_SIZE connections in the room's object and puts the rest in shards, and says so", async () => {
		const room = freshRoom("place");
		const clients = [];
		for (let i = 0; i < 7; i++) clients.push(await connect(room));
		expect(await statsOf(room)).toEqual({
			connections: 7,
			members: 1,
			latestId: 0,
			shards: [{ connections: 3 }, { connections: 3 }, { connections: 1 }],
		});
		expect(await runInDurableObject(shardStub(room, 2), (shard: RoomShard) => shard.connectionCount())).toBe(1);
	});

	it("refuses past MAX_CONNECTIONS for the room as a whole, with 503", async () => {
		const room = freshRoom("full");
		for (let i = 0; i < 12; i++) await connect(room);
		const response = await exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket`, {
			headers: { Upgrade: "websocket" },
		});
		expect(response.status).toBe(503);
		expect(await response.text()).toBe("room is full (12 connections); try again later\n");
	});

	it("places an upgrade elsewhere when its shard filled up before the room knew", async () => {
		const room = freshRoom("race");
		for (let i = 0; i < 6; i++) await connect(room); // the room's object and shard 1 are full
		// Shard 1's report that it holds nothing, as if it came before upgrades on their way to it.
		await runInDurableObject(stubFor(room), (r) => r.submit({ shard: 1, connections: 0, submissions: [] }));
		expect((await statsOf(room)).shards[1]).toEqual({ connections: 0 });
		// The room sends the next upgrade to shard 1, which is full: it is placed again, in shard 2.
		await connect(room);
		expect((await statsOf(room)).shards).toEqual([{ connections: 3 }, { connections: 3 }, { connections: 1 }]);
	});

	it("never lets a client pick its shard: a forged shard header is ignored", async () => {
		const room = freshRoom("forged");
		const response = await exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket`, {
			headers: { Upgrade: "websocket", "Edgechat-Shard": "7" },
		});
		expect(response.status).toBe(101);
		response.webSocket?.accept();
		expect((await statsOf(room)).shards).toEqual([{ connections: 1 }]);
	});
});

describe("one order", () => {
	it("gives every member the same messages with the same ids in the same order, plain and rich, wherever held", async () => {
		const room = freshRoom("order");
		// Room object: ann, bob, a plain client. Shard 1: cat, dan, a plain client. Shard 2: eve, a plain client.
		const [ann, bob] = await joinAll(room, ["ann", "bob"]);
		const plain0 = await connect(room);
		const [cat, dan] = await joinAll(room, ["cat", "dan"]);
		const plain1 = await connect(room);
		const [eve] = await joinAll(room, ["eve"]);
		const plain2 = await connect(room);
		// Shards the Worker placed on by itself count once they report (their next call to the room).
		await expect
			.poll(async () => (await statsOf(room)).shards)
			.toEqual([{ connections: 3 }, { connections: 3 }, { connections: 2 }]);
		const rich = [ann, bob, cat, dan, eve] as RichClient[];
		// Everyone talks at once: 3 messages from each rich client, 2 from each plain one.
		for (const [i, client] of rich.entries()) {
			for (let n = 0; n < 3; n++) client.send({ type: "send", clientId: `r${i}-${n}`, text: `r${i}-${n}` });
		}
		for (const [i, client] of [plain0, plain1, plain2].entries()) {
			for (let n = 0; n < 2; n++) client.socket.send(`p${i}-${n}`);
		}
		const total = 5 * 3 + 3 * 2;
		const seen = await Promise.all(rich.map((client) => messages(client, total)));
		const reference = seen[0]?.map(({ id, text }) => ({ id, text }));
		expect(reference?.map((m) => m.id)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
		for (const got of seen) expect(got.map(({ id, text }) => ({ id, text }))).toEqual(reference);
		// Each sender's own messages keep their order.
		expect(reference?.filter((m) => m.text.startsWith("r2-")).map((m) => m.text)).toEqual(["r2-0", "r2-1", "r2-2"]);
		// Plain clients see the same order: bare text for plain senders, `name: text` for rich ones.
		const plainView = reference?.map(({ text }) =>
			text.startsWith("p") ? text : `${["ann", "bob", "cat", "dan", "eve"][Number(text[1])]}: ${text}`,
		);
		for (const plain of [plain0, plain1, plain2]) expect(await texts(plain, total)).toEqual(plainView);
	});
});

describe("presence across shards", () => {
	it("tells every member of joins and leaves in any part, once per name, and welcomes with the whole room", async () => {
		const room = freshRoom("presence");
		const [ann, bob, cat] = await joinAll(room, ["ann", "bob", "cat"]);
		const dan = await connectRich(room, "dan"); // shard 1
		expect(dan.welcome.members).toEqual(["ann", "bob", "cat", "dan"]);
		expect(dan.welcome.memberCount).toBe(4);
		// ann heard bob and cat join before dan; dan's join (from shard 1) comes after theirs.
		expect([await ann?.nextOf("join"), await ann?.nextOf("join"), await ann?.nextOf("join")]).toEqual(
			["bob", "cat", "dan"].map((name) => ({ type: "join", name })),
		);
		// A second tab of ann, on shard 1: not news.
		const annAgain = await connectRich(room, "ann");
		expect(annAgain.welcome.memberCount).toBe(4);
		const eve = await connectRich(room, "eve"); // shard 1
		expect(await dan.nextOf("join")).toEqual({ type: "join", name: "eve" });
		// ann's room-object tab goes: ann is still here (shard 1).
		await ann?.close();
		// dan's leaving (shard 1) reaches the room object's members and shard 1's.
		await dan.close();
		expect(await bob?.nextOf("leave")).toEqual({ type: "leave", name: "dan" });
		expect(await eve.nextOf("leave")).toEqual({ type: "leave", name: "dan" });
		await annAgain.close();
		expect([await cat?.nextOf("leave"), await cat?.nextOf("leave")]).toEqual(
			["dan", "ann"].map((name) => ({ type: "leave", name })),
		);
		expect(await runInDurableObject(stubFor(room), (r) => r.memberNames())).toEqual(["bob", "cat", "eve"]);
		expect((await statsOf(room)).members).toBe(3);
	});

	it("passes typing from a shard to the other parts, not back to the typist", async () => {
		const room = freshRoom("typing");
		const [ann] = await joinAll(room, ["ann", "bob", "cat"]);
		const [dan, eve] = await joinAll(room, ["dan", "eve"]);
		dan?.send({ type: "typing" });
		expect(await ann?.nextOf("typing")).toEqual({ type: "typing", name: "dan" });
		expect(await eve?.nextOf("typing")).toEqual({ type: "typing", name: "dan" });
		const said = await dan?.say("done typing");
		// dan's next message after its own typing is its echo: typing never came back to it.
		expect(said?.text).toBe("done typing");
		expect(dan?.raw.received.some((frame) => String(frame).includes('"typing"'))).toBe(false);
	});
});

describe("resume and resend through any shard", () => {
	it("replays exactly what was missed to a client resuming through another part of the room", async () => {
		const room = freshRoom("resume");
		const [ann] = await joinAll(room, ["ann", "bob", "cat"]);
		const dan = await connectRich(room, "dan"); // shard 1
		const first = await dan.say("before");
		await dan.close();
		for (let i = 0; i < 4; i++) await ann?.say(`while away ${i}`);
		// Fill shard 1's free places so the resuming client lands in shard 2.
		await joinAll(room, ["x1", "x2", "x3"]);
		const back = await connectRich(room, "dan", first.id);
		expect((await statsOf(room)).shards.at(-1)).toEqual({ connections: 1 });
		expect(back.welcome.gap).toBe(false);
		expect(back.welcome.history.map(textOf)).toEqual(["while away 0", "while away 1", "while away 2", "while away 3"]);
		expect(back.welcome.latestId).toBe(first.id + 4);
	});

	it("stores a send retried through another shard with the same clientId once, and echoes the original", async () => {
		const room = freshRoom("resend");
		const [ann] = await joinAll(room, ["ann", "bob", "cat"]);
		const dan = await connectRich(room, "dan"); // shard 1
		const original = await dan.say("only once", "same-id");
		await joinAll(room, ["x1", "x2"]); // shard 1 is full now
		const again = await connectRich(room, "dan"); // shard 2
		again.send({ type: "send", clientId: "same-id", text: "only once" });
		expect(await again.nextOf("message")).toMatchObject({ id: original.id, clientId: "same-id" });
		const next = await ann?.say("after");
		expect(next?.id).toBe(original.id + 1);
		expect(await runInDurableObject(stubFor(room), (r) => r.storedMessageCount())).toBe(1 + 1);
	});
});

describe("shards that empty", () => {
	it("gives a client of a shard that emptied and filled again nothing it did not ask for", async () => {
		const room = freshRoom("refill");
		const here = [];
		for (let i = 0; i < 3; i++) here.push(await connect(room));
		const away = [];
		for (let i = 0; i < 3; i++) away.push(await connect(room)); // shard 1
		for (const client of away) {
			client.socket.close(1000);
			await client.closed;
		}
		// Shard 1 has told the room it is empty once the room pushes nothing more to it.
		await expect.poll(async () => (await statsOf(room)).shards[1]).toEqual({ connections: 0 });
		for (let i = 0; i < 3; i++) here[0]?.socket.send(`while shard 1 was empty ${i}`);
		for (let i = 0; i < 3; i++) await here[1]?.next();
		const newcomer = await connect(room); // shard 1 again
		here[0]?.socket.send("after the newcomer came");
		expect(await newcomer.next()).toBe("after the newcomer came");
	});

	it("corrects the room's count of a shard from the shard's answer to a push (a place handed out, never taken)", async () => {
		const room = freshRoom("ghost");
		const clients = [];
		for (let i = 0; i < 4; i++) clients.push(await connect(room));
		// As if an upgrade had been sent to shard 2 and never arrived.
		await runInDurableObject(stubFor(room), (r) => r.submit({ shard: 2, connections: 1, submissions: [] }));
		expect((await statsOf(room)).shards[2]).toEqual({ connections: 1 });
		clients[0]?.socket.send("a push to every shard");
		await clients[3]?.next();
		await expect.poll(async () => (await statsOf(room)).shards[2]).toEqual({ connections: 0 });
	});

	it("closes a shard's clients with 1012 when a push of the room was lost, so they resume", async () => {
		const room = freshRoom("lost-push");
		await joinAll(room, ["ann", "bob", "cat"]);
		const dan = await connectRich(room, "dan"); // shard 1
		const push = (seq: number) =>
			runInDurableObject(shardStub(room, 1), (shard: RoomShard) =>
				shard.deliver({ after: 0, sender: "a-test", seq, deliveries: [] }),
			);
		expect(await push(1)).toBe(1);
		expect(await push(3)).toBe(0);
		expect(await dan.raw.closed).toMatchObject({ code: 1012, reason: "missed updates; reconnect and resume" });
	});
});

describe("faults", () => {
	it("a shard evicted mid-conversation keeps its sockets and its clients miss nothing", async () => {
		const room = freshRoom("shard-evicted");
		const [ann] = await joinAll(room, ["ann", "bob", "cat"]);
		const [dan, eve] = await joinAll(room, ["dan", "eve"]);
		for (let i = 0; i < 3; i++) ann?.send({ type: "send", clientId: `a${i}`, text: `a${i}` });
		await evictDurableObject(shardStub(room, 1));
		for (let i = 3; i < 6; i++) ann?.send({ type: "send", clientId: `a${i}`, text: `a${i}` });
		dan?.send({ type: "send", clientId: "d0", text: "from the evicted shard" });
		for (const client of [dan, eve]) {
			const got = await messages(client as RichClient, 7);
			expect(got.map((m) => m.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
			expect(got.filter((m) => m.name === "ann").map((m) => m.text)).toEqual(["a0", "a1", "a2", "a3", "a4", "a5"]);
		}
		expect((await statsOf(room)).shards[1]).toEqual({ connections: 2 });
	});

	it("a shard reset mid-conversation loses its sockets; its clients resume without a gap and presence drops them", async () => {
		const room = freshRoom("shard-reset");
		const [ann, bob] = await joinAll(room, ["ann", "bob", "cat"]);
		const dan = await connectRich(room, "dan"); // shard 1
		const seen = await dan.say("seen");
		for (let i = 0; i < 3; i++) ann?.send({ type: "send", clientId: `a${i}`, text: `a${i}` });
		await reset(shardStub(room, 1));
		expect((await dan.raw.closed).code).not.toBe(1000);
		// The shard tells the room what it holds when it starts again (nothing): dan leaves.
		await runInDurableObject(shardStub(room, 1), (shard: RoomShard) => shard.connectionCount());
		expect(await bob?.nextOf("leave")).toEqual({ type: "leave", name: "dan" });
		const back = await connectRich(room, "dan", seen.id);
		expect(back.welcome.gap).toBe(false);
		expect(back.welcome.history.map(textOf)).toEqual(["a0", "a1", "a2"]);
		expect((await statsOf(room)).connections).toBe(4);
	});

	it("the room's object evicted mid-burst loses nothing it committed and duplicates nothing", async () => {
		const room = freshRoom("room-evicted");
		await joinAll(room, ["ann", "bob", "cat"]);
		const [dan, eve] = await joinAll(room, ["dan", "eve"]);
		for (let i = 0; i < 4; i++) dan?.send({ type: "send", clientId: `d${i}`, text: `d${i}` });
		await evictDurableObject(stubFor(room));
		for (let i = 4; i < 8; i++) dan?.send({ type: "send", clientId: `d${i}`, text: `d${i}` });
		const got = await messages(eve as RichClient, 8);
		expect(got.map((m) => m.text)).toEqual(["d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7"]);
		expect(got.map((m) => m.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
		expect(await runInDurableObject(stubFor(room), (r) => r.storedMessageCount())).toBe(8);
		// Presence survived the eviction: the room's object rebuilt its shard's members from storage.
		expect(await runInDurableObject(stubFor(room), (r) => r.memberNames())).toEqual([
			"ann",
			"bob",
			"cat",
			"dan",
			"eve",
		]);
	});

	it("the room's object reset: a shard's clients are told their send was not stored, and a resend is stored once", async () => {
		const room = freshRoom("room-reset");
		const [ann] = await joinAll(room, ["ann", "bob", "cat"]);
		const dan = await connectRich(room, "dan"); // shard 1
		await dan.say("before the reset");
		// ctx.abort(): the object is reset (its sockets dropped) and every stub to it is broken.
		await reset(stubFor(room));
		expect((await (ann as RichClient).raw.closed).code).toBe(1006);
		// The shard's call with dan's message fails: dan is told, with its clientId, and resends.
		dan.send({ type: "send", clientId: "after-reset", text: "after the reset" });
		expect(await dan.nextEvent()).toMatchObject({ type: "error", code: "server_error", clientId: "after-reset" });
		dan.send({ type: "send", clientId: "after-reset", text: "after the reset" });
		expect(await dan.nextOf("message")).toMatchObject({ id: 2, clientId: "after-reset" });
		expect(await runInDurableObject(stubFor(room), (r) => r.storedMessageCount())).toBe(2);
		// The room heard from the shard again, names and all: dan is present, ann's tab is gone.
		expect(await runInDurableObject(stubFor(room), (r) => r.memberNames())).toEqual(["dan"]);
		// And dan was told that everyone the room's object held left with its sockets (with the
		// room's first push after it started again, before the message above).
		const left = dan.raw.received
			.flatMap((frame) => {
				const event = JSON.parse(String(frame));
				return event.type === "batch" ? event.events : [event];
			})
			.filter((event) => event.type === "leave")
			.map((event) => event.name);
		expect(left.sort()).toEqual(["ann", "bob", "cat"]);
	});
});
