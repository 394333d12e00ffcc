/**
 * Faults and defences at room level: origin refusal before the upgrade, silent peers swept by
 * the liveness alarm, a real storage failure, and an eviction storm.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { freshRoom, inRoom, stubFor } from "./rooms.ts";
import { connect, connectRich, textOf } from "./sockets.ts";

describe("origin check at the Worker", () => {
	it("refuses a foreign page's upgrade with 403 and a reason, before any upgrade", async () => {
		const response = await exports.default.fetch("http://chat.test/api/rooms/lobby/websocket", {
			headers: { Upgrade: "websocket", Origin: "https://evil.example" },
		});
		expect(response.status).toBe(403);
		expect(response.webSocket).toBeNull();
		expect(await response.text()).toBe("origin https://evil.example is not allowed\n");
	});

	it("lets the page's own origin upgrade", async () => {
		const response = await exports.default.fetch("http://chat.test/api/rooms/lobby/websocket", {
			headers: { Upgrade: "websocket", Origin: "http://chat.test" },
		});
		expect(response.status).toBe(101);
		response.webSocket?.accept();
		response.webSocket?.close(1000);
	});
});

describe("liveness", () => {
	it("schedules a sweep while rich connections exist", async () => {
		const room = freshRoom("live");
		await connectRich(room, "alice");
		const alarm = await runInDurableObject(stubFor(room), (_r, state) => state.storage.getAlarm());
		expect(alarm).toBeGreaterThan(Date.now());
		expect(alarm).toBeLessThanOrEqual(Date.now() + 45_000);
	});

	it("keeps rich peers heard from within the timeout and closes silent ones with 1001; they leave the member list", async () => {
		const room = freshRoom("live");
		const silent = await connectRich(room, "silent");
		const watcher = await connectRich(room, "watcher");
		await silent.nextOf("join");
		const plain = await connect(room);
		// Now: everyone was heard from just now.
		expect(await inRoom(room, (r) => r.sweepSilent(Date.now()))).toBe(0);
		// 91 s from now, neither rich peer has been heard from for longer than the 90 s timeout.
		expect(await inRoom(room, (r) => r.sweepSilent(Date.now() + 91_000))).toBe(2);
		expect((await silent.raw.closed).code).toBe(1001);
		expect((await watcher.raw.closed).reason).toBe("no heartbeat");
		// Plain clients have no heartbeat in the tutorial protocol: they are never swept.
		expect(await inRoom(room, (r) => r.memberNames())).toEqual(["guest"]);
		plain.socket.send("still relayed");
		expect(await plain.next()).toBe("still relayed");
	});

	it("counts the runtime's automatic pongs as signs of life", async () => {
		const room = freshRoom("live");
		const alice = await connectRich(room, "alice");
		expect(await alice.ping()).toBe('{"type":"pong"}');
		const lastPong = await runInDurableObject(stubFor(room), (_r, state) => {
			const [socket] = state.getWebSockets();
			return socket ? state.getWebSocketAutoResponseTimestamp(socket)?.getTime() : undefined;
		});
		expect(lastPong).toBeTypeOf("number");
		// A sweep exactly one timeout after that pong keeps alice; one millisecond later does not.
		expect(await inRoom(room, (r) => r.sweepSilent((lastPong ?? 0) + 90_000))).toBe(0);
		expect(await inRoom(room, (r) => r.sweepSilent((lastPong ?? 0) + 90_001))).toBe(1);
	});

	it("runs the sweep from the alarm and keeps the alarm going while rich connections remain", async () => {
		const room = freshRoom("live");
		await connectRich(room, "alice");
		expect(await runDurableObjectAlarm(stubFor(room))).toBe(true);
		// alice was heard from moments ago, so she stays, and the next sweep is scheduled.
		expect(await inRoom(room, (r) => r.memberNames())).toEqual(["alice"]);
		const next = await runInDurableObject(stubFor(room), (_r, state) => state.storage.getAlarm());
		expect(next).not.toBeNull();
	});
});

describe("storage failure", () => {
	it("answers the sender with server_error, costs nobody else anything, and recovers after a restart of the object", async () => {
		const room = freshRoom("storage");
		const alice = await connectRich(room, "alice");
		const bob = await connectRich(room, "bob");
		await alice.nextOf("join");
		await alice.say("before");
		await bob.nextOf("message");
		// A real SQLite failure: the table the room writes to is gone.
		await runInDurableObject(stubFor(room), (_r, state) => state.storage.sql.exec("DROP TABLE messages"));
		alice.send({ type: "send", clientId: "lost-1", text: "during" });
		const error = await alice.nextOf("error");
		expect(error).toMatchObject({ code: "server_error", clientId: "lost-1" });
		// bob saw nothing of it and both connections still work (typing is not stored).
		alice.send({ type: "typing" });
		expect(await bob.nextEvent()).toEqual({ type: "typing", name: "alice" });
		// A fresh instance recreates its table; the retried message goes through.
		await evictDurableObject(stubFor(room));
		expect((await alice.say("during", "lost-1")).text).toBe("during");
		expect((await bob.nextOf("message")).clientId).toBe("lost-1");
	});

	it("closes a plain sender with 1011 when its message cannot be stored; the others stay", async () => {
		const room = freshRoom("storage");
		const plain = await connect(room);
		const alice = await connectRich(room, "alice");
		// The room keeps something (its tables exist), and then loses the one it writes to.
		await alice.say("kept");
		await runInDurableObject(stubFor(room), (_r, state) => state.storage.sql.exec("DROP TABLE messages"));
		plain.socket.send("cannot be stored");
		const closed = await plain.closed;
		expect(closed.code).toBe(1011);
		expect(await alice.nextOf("leave")).toEqual({ type: "leave", name: "guest" });
	});
});

describe("eviction storm", () => {
	it("evicts the room between every message of a conversation; history and presence stay exact", async () => {
		const room = freshRoom("storm");
		const stub = stubFor(room);
		const people = [await connectRich(room, "ann"), await connectRich(room, "ben"), await connectRich(room, "cat")];
		const plain = await connect(room);
		for (let i = 1; i <= 30; i++) {
			await evictDurableObject(stub);
			const speaker = people[i % 3];
			expect((await speaker?.say(`line ${i}`))?.id).toBe(i);
		}
		await evictDurableObject(stub);
		expect(await inRoom(room, (r) => r.memberNames())).toEqual(["ann", "ben", "cat", "guest"]);
		const audit = await connectRich(room, "audit", 0);
		expect(audit.welcome.history.map(textOf)).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i + 1}`));
		// The plain client got every one as "name: text", in order.
		const frames: string[] = [];
		for (let i = 0; i < 30; i++) frames.push(String(await plain.next()));
		expect(frames).toEqual(
			Array.from({ length: 30 }, (_, i) => `${["ann", "ben", "cat"][(i + 1) % 3]}: line ${i + 1}`),
		);
	});
});
