/**
 * What a big room must not pay for, and what it must not lose, across its objects (SHARD_SIZE 3:
 * the room's own object holds the first three connections, shard 1 the next three). Each case
 * pins one fault found by reading the shard and hub code; the faults the runtime cannot be asked
 * for on cue (a lost push, a room object that does not answer or is slow to take a batch) come
 * from the switches of ./faulty-worker.ts, this project's `main`.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { shardObjectName } from "../../../src/wire/placement.ts";
import type { ServerEvent, SingleServerEvent } from "../../../src/wire/protocol.ts";
import { freshRoom } from "../rooms.ts";
import { connectRichRaw, nextMessages, type RichClient, roomOf } from "../sockets.ts";
import type { Room, RoomShard } from "./faulty-worker.ts";

function roomStub(room: string): DurableObjectStub<Room> {
	return env.ROOMS.get(env.ROOMS.idFromName(room)) as unknown as DurableObjectStub<Room>;
}

function shardStub(room: string, shard: number): DurableObjectStub<RoomShard> {
	return env.SHARDS.get(env.SHARDS.idFromName(shardObjectName(room, shard))) as unknown as DurableObjectStub<RoomShard>;
}

const inRoom = <T>(room: string, run: (instance: Room, state: DurableObjectState) => T) =>
	runInDurableObject(roomStub(room), run);
const inShard = <T>(room: string, run: (instance: RoomShard) => T) =>
	runInDurableObject(shardStub(room, 1), (instance: RoomShard) => run(instance));

describe("a quiet room costs nothing", () => {
	it("an idle shard evicted and woken by its liveness alarm sends the room no member list", async () => {
		const room = freshRoom("quiet");
		const { here, there } = await roomOf(room, "dan", "eve");
		const before = await inRoom(room, (r) => r.shardCalls());
		await evictDurableObject(shardStub(room, 1));
		await inShard(room, (shard) => shard.alarm());
		// The next batch from the shard is dan's message alone.
		await (there[0] as RichClient).say("after the alarm");
		await (here[0] as RichClient).nextOf("message");
		const after = await inRoom(room, (r) => r.shardCalls());
		expect(after.memberLists - before.memberLists).toBe(0);
		expect(after.submitted - before.submitted).toBe(1);
	});
});

describe("a storm costs one push per shard", () => {
	it("Closes of every connection of the room's object, at once, reach each shard in one push", async () => {
		const room = freshRoom("close-storm");
		const { there } = await roomOf(room, "dan");
		const dan = there[0] as RichClient;
		const before = await inRoom(room, (r) => r.shardCalls().pushed);
		await inRoom(room, (r, state) => {
			for (const ws of state.getWebSockets()) void r.webSocketClose(ws, 1000, "bye");
		});
		const left: string[] = [];
		while (left.length < 3) left.push((await dan.nextOf("leave")).name);
		expect(left.sort()).toEqual(["ann", "bob", "cat"]);
		expect((await inRoom(room, (r) => r.shardCalls().pushed)) - before).toBe(1);
	});
});

describe("a lost push is fetched, not a reconnect storm", () => {
	it("a shard that lost a push fetches it from the room's ring: its clients get every message once and stay", async () => {
		const room = freshRoom("lost-fetched");
		const { here, there } = await roomOf(room, "dan");
		const [ann, dan] = [here[0] as RichClient, there[0] as RichClient];
		await inShard(room, (shard) => shard.dropNextPush());
		await ann.say("one");
		await ann.say("two");
		expect(await nextMessages(dan, 2)).toEqual(["1 one", "2 two"]);
		expect(await inShard(room, (shard) => shard.pushesDropped())).toBe(1);
		// Still connected: its own message goes through.
		expect((await dan.say("still here")).id).toBe(3);
	});

	it("a push lost just before the shard was evicted is noticed and fetched by the shard's next instance", async () => {
		const room = freshRoom("lost-evicted");
		const { here, there } = await roomOf(room, "dan");
		const [ann, dan] = [here[0] as RichClient, there[0] as RichClient];
		await inShard(room, (shard) => shard.dropNextPush());
		await ann.say("one");
		await expect.poll(() => inShard(room, (shard) => shard.pushesDropped())).toBe(1);
		await evictDurableObject(shardStub(room, 1));
		await ann.say("two");
		expect(await nextMessages(dan, 2)).toEqual(["1 one", "2 two"]);
		expect((await dan.say("still here")).id).toBe(3);
	});
});

describe("a slow room object stalls no socket", () => {
	it("a shard waiting on the room for what it missed still answers its clients, and gives up with 1012", async () => {
		const room = freshRoom("stalled");
		const { here, there } = await roomOf(room, "dan");
		const [ann, dan] = [here[0] as RichClient, there[0] as RichClient];
		await inRoom(room, (r) => r.stallMissedPushes());
		await inShard(room, (shard) => shard.dropNextPush());
		await ann.say("one");
		// The room's retry tells the shard it missed a push; the shard asks, and the room never answers.
		await expect.poll(() => inRoom(room, (r) => r.missedPushesAsked()), { timeout: 5_000 }).toBe(1);
		dan.send({ type: "no-such-event" });
		expect(await dan.nextOf("error")).toMatchObject({ code: "unknown_type" });
		expect(await dan.raw.closed).toMatchObject({ code: 1012, reason: "missed updates; reconnect and resume" });
	});
});

describe("a welcome on its way survives an eviction", () => {
	it("a client whose hello was taken before its shard was evicted gets nothing before its welcome, and nothing twice", async () => {
		const room = freshRoom("welcome-evicted");
		const { here } = await roomOf(room);
		const ann = here[0] as RichClient;
		await inRoom(room, (r) => r.holdSubmits());
		const dan = await connectRichRaw(room);
		dan.raw.socket.send(JSON.stringify({ type: "hello", name: "dan" }));
		await expect.poll(() => inRoom(room, (r) => r.heldSubmissions())).toContain("hello");
		await evictDurableObject(shardStub(room, 1));
		// A broadcast reaches the shard's new instance while dan's hello is still held by the room.
		await ann.say("said before dan's welcome");
		await inRoom(room, (r) => r.releaseSubmits());
		const first = await dan.nextEvent();
		expect(first.type).toBe("welcome");
		const welcome = first as Extract<SingleServerEvent, { type: "welcome" }>;
		expect(welcome.history.map((entry) => entry.id)).toEqual([1]);
		// Then the next message, and not message 1 again.
		await ann.say("after");
		expect(await dan.nextEvent()).toMatchObject({ type: "message", id: 2 });
	});
});

describe("a connection that closes on a shard gets its answers first", () => {
	it("a push of an earlier burst, arriving after the room took the closing client's hello, does not close it before its welcome", async () => {
		const room = freshRoom("close-answered");
		const { here, there } = await roomOf(room, "dan");
		const [ann, dan] = [here[0] as RichClient, there[0] as RichClient];
		await inRoom(room, (r) => r.holdSubmits());
		const eve = await connectRichRaw(room);
		eve.raw.socket.send(JSON.stringify({ type: "hello", name: "eve" }));
		// The room has answered the shard's call that carried eve's hello; her welcome is not made yet.
		await expect.poll(() => inRoom(room, (r) => r.heldSubmissions())).toContain("hello");
		eve.raw.socket.close(4000, "done");
		// A burst of the room's own reaches the shard: it carries nothing for eve.
		await ann.say("a burst before eve's");
		expect(await nextMessages(dan, 1)).toEqual(["1 a burst before eve's"]);
		await inRoom(room, (r) => r.releaseSubmits());
		expect(await eve.raw.closed).toMatchObject({ code: 4000 });
		const events = eve.raw.received.flatMap((frame) => {
			const event = JSON.parse(String(frame)) as ServerEvent;
			return event.type === "batch" ? event.events : [event];
		});
		expect(events.map((event) => event.type)).toEqual(["welcome"]);
		expect((events[0] as Extract<SingleServerEvent, { type: "welcome" }>).history.map((entry) => entry.id)).toEqual([
			1,
		]);
	});
});
