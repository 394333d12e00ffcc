import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { freshRoom, inRoom, stubFor } from "./rooms.ts";
import { connect, type TestClient } from "./sockets.ts";

const CAP = Number(env.MESSAGE_CAP);

const connectionCount = (room: string) => inRoom(room, (instance) => instance.connectionCount());

/** Sends `text` from `from` and returns what every client in `all` received next. */
async function say(from: TestClient, all: TestClient[], frame: string | ArrayBuffer) {
	const arrivals = all.map((client) => client.next());
	from.socket.send(frame);
	return Promise.all(arrivals);
}

describe("plain mode", () => {
	it("uses the documented default cap of 50", () => {
		expect(CAP).toBe(50);
	});

	it("relays a short message unchanged to everyone, the sender included", async () => {
		const room = freshRoom();
		const [a, b] = [await connect(room), await connect(room)];
		expect(await say(a, [a, b], "hello")).toEqual(["hello", "hello"]);
	});

	it("relays ASCII exactly at the cap unchanged and cuts one over to the cap", async () => {
		const room = freshRoom();
		const [a, b] = [await connect(room), await connect(room)];
		const exact = "x".repeat(CAP);
		expect(await say(a, [a, b], exact)).toEqual([exact, exact]);
		expect(await say(a, [a, b], `${exact}y`)).toEqual([exact, exact]);
	});

	it("counts emoji as one character each and never splits a surrogate pair", async () => {
		const room = freshRoom();
		const [a, b] = [await connect(room), await connect(room)];
		const emoji = "😀".repeat(CAP);
		expect(await say(b, [a, b], emoji)).toEqual([emoji, emoji]);
		expect(await say(b, [a, b], `${emoji}😀`)).toEqual([emoji, emoji]);
		const straddling = `${"x".repeat(CAP - 1)}😀z`;
		expect(await say(b, [a, b], straddling)).toEqual([straddling.slice(0, -1), straddling.slice(0, -1)]);
	});

	it("relays an empty text frame: it is a valid message", async () => {
		const room = freshRoom();
		const [a, b] = [await connect(room), await connect(room)];
		expect(await say(a, [a, b], "")).toEqual(["", ""]);
	});

	it("relays binary as binary, byte for byte and uncut", async () => {
		const room = freshRoom();
		const [a, b] = [await connect(room), await connect(room)];
		const bytes = new Uint8Array(200).map((_, i) => i);
		const got = await say(a, [a, b], bytes.buffer);
		for (const frame of got) {
			expect(frame).toBeInstanceOf(ArrayBuffer);
			expect(new Uint8Array(frame as ArrayBuffer)).toEqual(bytes);
		}
	});

	it("broadcasts to many sockets in one room, in the order messages were sent", async () => {
		const room = freshRoom();
		const clients: TestClient[] = [];
		for (let i = 0; i < 25; i++) clients.push(await connect(room));
		const all = Promise.all(clients.map(async (c) => [await c.next(), await c.next(), await c.next()]));
		clients[3]?.socket.send("one");
		clients[17]?.socket.send("two");
		clients[3]?.socket.send("three");
		for (const frames of await all) {
			expect(frames).toHaveLength(3);
			// Each sender's own messages stay in order for every recipient.
			expect(frames.indexOf("one")).toBeLessThan(frames.indexOf("three"));
			expect(new Set(frames)).toEqual(new Set(["one", "two", "three"]));
		}
	});

	it("keeps rooms apart: a message reaches only its own room", async () => {
		const [roomA, roomB] = [freshRoom(), freshRoom()];
		const a = await connect(roomA);
		const b = await connect(roomB);
		// b's own echo arrives after anything a's room could have leaked to it before.
		await say(a, [a], "for room A only");
		expect(await say(b, [b], "for room B only")).toEqual(["for room B only"]);
		expect(b.received).toEqual(["for room B only"]);
		expect(a.received).toEqual(["for room A only"]);
	});

	it("completes a clean close with the client's code, and the socket leaves the room", async () => {
		const room = freshRoom();
		const [a, b] = [await connect(room), await connect(room)];
		expect(await connectionCount(room)).toBe(2);
		a.socket.close(1000, "bye");
		const closed = await a.closed;
		expect(closed.code).toBe(1000);
		expect(closed.wasClean).toBe(true);
		// The room carries on for b, and no longer counts a.
		expect(await say(b, [b], "still here")).toEqual(["still here"]);
		expect(await connectionCount(room)).toBe(1);
		expect(a.received).toEqual([]);
	});

	it("echoes a custom application close code back to the client", async () => {
		const room = freshRoom();
		const a = await connect(room);
		a.socket.close(4001, "custom");
		const closed = await a.closed;
		expect(closed.code).toBe(4001);
		expect(await connectionCount(room)).toBe(0);
	});

	it("keeps chatting on hibernated sockets after the room is evicted", async () => {
		const room = freshRoom();
		const [a, b] = [await connect(room), await connect(room)];
		expect(await say(a, [a, b], "before")).toEqual(["before", "before"]);

		const before = await inRoom(room, (r) => r.instanceNumber());
		await evictDurableObject(stubFor(room));

		// A new instance (its constructor ran again) rebuilt its socket list from the runtime's hibernated sockets.
		expect(await inRoom(room, (r) => r.instanceNumber())).toBeGreaterThan(before);
		expect(await say(b, [a, b], "after")).toEqual(["after", "after"]);
		expect(await connectionCount(room)).toBe(2);
		const c = await connect(room);
		expect(await say(c, [a, b, c], "newcomer")).toEqual(["newcomer", "newcomer", "newcomer"]);
		a.socket.close(1000);
		expect((await a.closed).code).toBe(1000);
		expect(await connectionCount(room)).toBe(2);
	});
});
