/**
 * Pushes through the relay tree (src/relay/relay.ts): this project has `RELAY_PAST` 1, so once
 * two shards hold connections (`SHARD_SIZE` 3: the room's own object holds the first three,
 * shards the rest) every push goes through relay 1. The faults come from the switches of
 * ../shards/faulty-worker.ts, this project's `main`.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CALL_BYTES } from "../../../src/wire/limits.ts";
import { shardObjectName } from "../../../src/wire/placement.ts";
import { freshRoom } from "../rooms.ts";
import type { Room, RoomRelay } from "../shards/faulty-worker.ts";
import { connectRich, nextMessages, type RichClient } from "../sockets.ts";

const roomStub = (room: string) => env.ROOMS.get(env.ROOMS.idFromName(room)) as unknown as DurableObjectStub<Room>;
const relayStub = (room: string) =>
	env.RELAYS.get(env.RELAYS.idFromName(shardObjectName(room, 1))) as unknown as DurableObjectStub<RoomRelay>;
const inRoom = <T>(room: string, run: (instance: Room) => T) => runInDurableObject(roomStub(room), run);
const inRelay = <T>(room: string, run: (instance: RoomRelay) => T) => runInDurableObject(relayStub(room), run);

/** Nine members: three on the room's own object, six on shards (at least two shards). */
async function bigRoom(room: string): Promise<RichClient[]> {
	const clients: RichClient[] = [];
	for (const name of ["ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal", "ivy"]) {
		clients.push(await connectRich(room, name));
	}
	const { shards } = await inRoom(room, (r) => r.stats());
	expect(shards.slice(1).filter((shard) => shard.connections > 0).length).toBeGreaterThanOrEqual(2);
	return clients;
}

/** Every client gets the same `count` messages, in one order of consecutive ids. */
async function everyoneGets(clients: RichClient[], count: number): Promise<string[]> {
	const seen = await Promise.all(clients.map((client) => nextMessages(client, count)));
	const first = seen[0] as string[];
	for (const other of seen) expect(other).toEqual(first);
	const ids = first.map((line) => Number(line.split(" ")[0]));
	expect(ids).toEqual(ids.map((_, i) => (ids[0] as number) + i));
	return first;
}

let sent = 0;

/** Sends a message without reading anything (everyone's messages are read by `everyoneGets`). */
function post(client: RichClient, text: string): void {
	client.send({ type: "send", clientId: `post-${++sent}`, text });
}

describe("pushes through a relay", () => {
	it("keep one order of ids at every member, with one call per burst from the room and one from the relay", async () => {
		const room = freshRoom("relay-order");
		const clients = await bigRoom(room);
		const before = await inRoom(room, (r) => r.shardCalls().pushed);
		const relayedBefore = await inRelay(room, (r) => r.relayedBursts());
		for (const client of clients) {
			client.send({ type: "send", clientId: `${client.welcome.name}-1`, text: `${client.welcome.name} one` });
			client.send({ type: "send", clientId: `${client.welcome.name}-2`, text: `${client.welcome.name} two` });
		}
		const order = await everyoneGets(clients, 18);
		expect(new Set(order).size).toBe(18);
		// Each of the room's pushes was one call to the relay, which handed each on once.
		const pushed = (await inRoom(room, (r) => r.shardCalls().pushed)) - before;
		expect(pushed).toBeGreaterThan(0);
		expect((await inRelay(room, (r) => r.relayedBursts())) - relayedBefore).toBe(pushed);
	});

	it("lose nothing when the relay is evicted between bursts", async () => {
		const room = freshRoom("relay-evicted");
		const clients = await bigRoom(room);
		const [ann, ivy] = [clients[0] as RichClient, clients[8] as RichClient];
		post(ann, "before");
		await everyoneGets(clients, 1);
		await evictDurableObject(relayStub(room));
		post(ivy, "after");
		expect((await everyoneGets(clients, 1))[0]).toMatch(/ after$/);
	});

	it.each([
		[0, "before handing anything on"],
		[1, "after handing the burst to one shard of two"],
	])(
		"lose nothing when the relay is reset mid-burst (having handed on %i) %s: each member gets the message once",
		async (handed) => {
			const room = freshRoom(`relay-reset-${handed}`);
			const clients = await bigRoom(room);
			const ann = clients[0] as RichClient;
			await inRelay(room, (r) => r.resetDuringNextRelay(handed));
			post(ann, "through a reset relay");
			// The room pushes an empty push a moment later; its number tells each shard it missed one.
			expect((await everyoneGets(clients, 1))[0]).toMatch(/ through a reset relay$/);
			post(ann, "and on");
			expect((await everyoneGets(clients, 1))[0]).toMatch(/ and on$/);
		},
	);

	it("split a burst larger than CALL_BYTES into calls that each carry a part once for all the relay's shards, in order", async () => {
		const room = freshRoom("relay-split");
		const clients = await bigRoom(room);
		const pushedBefore = await inRoom(room, (r) => r.shardCalls().pushed);
		const relayedBefore = await inRelay(room, (r) => r.relayedBursts());
		// One burst of 1,100 long messages (2,000 emoji: 8 kB each, 8.8 MB in all) from shard 1.
		const long = "😀".repeat(2_000);
		await inRoom(room, (r) => {
			const { shards } = r.stats();
			const submissions = Array.from({ length: 1_100 }, (_, i) => ({
				kind: "send" as const,
				...{ from: "1/writer", name: "writer", userId: null, role: null },
				...{ text: `${i} ${long}`, clientId: `long-${i}`, replyTo: null },
			}));
			r.submit({ shard: 1, connections: shards[1]?.connections ?? 0, submissions });
		});
		// Asking for the count commits the burst (and pushes it) first.
		await inRoom(room, (r) => r.storedMessageCount());
		expect(1_100 * 8_000).toBeGreaterThan(CALL_BYTES);
		// Two parts: each in one call to the relay, for both of its shards.
		expect((await inRoom(room, (r) => r.shardCalls().pushed)) - pushedBefore).toBe(2);
		post(clients[0] as RichClient, "after the big burst");
		const all = await everyoneGets(clients, 1_101);
		expect(all.slice(0, 1_100).map((line) => Number(line.split(" ")[1]))).toEqual(
			Array.from({ length: 1_100 }, (_, i) => i),
		);
		expect(all.at(-1)).toMatch(/ after the big burst$/);
		expect((await inRelay(room, (r) => r.relayedBursts())) - relayedBefore).toBe(3);
	});

	it("a member on a shard who resumes gets exactly what it missed, then the live messages through the relay", async () => {
		const room = freshRoom("relay-resume");
		const clients = await bigRoom(room);
		const [ann, ivy] = [clients[0] as RichClient, clients[8] as RichClient];
		post(ann, "seen by all");
		const seenBy = Number((await everyoneGets(clients, 1))[0]?.split(" ")[0]);
		await ivy.close();
		for (const text of ["missed 1", "missed 2", "missed 3"]) await ann.say(text);
		const back = await connectRich(room, "ivy", seenBy);
		expect(back.welcome.history.map((message) => ("text" in message ? message.text : null))).toEqual([
			"missed 1",
			"missed 2",
			"missed 3",
		]);
		await ann.say("live again");
		expect((await nextMessages(back, 1))[0]).toMatch(/ live again$/);
	});
});
