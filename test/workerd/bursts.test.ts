/**
 * Bursts (src/room/room.ts `#commitBurst`, src/room/message-log.ts `stageNew`/`commit`): the messages a room
 * receives in one burst of work get their ids at once, are written in one transaction when
 * the burst ends, and only then go out. To put several frames in one burst deterministically,
 * these tests hand them to the room's `webSocketMessage` directly, back to back, inside the
 * object (the runtime would deliver them the same way, one after another).
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Connection } from "../../src/hub/connection.ts";
import type { Room } from "../../src/room/room.ts";
import { freshRoom, stubFor } from "./rooms.ts";
import { connect, connectRich, connectRichRaw, textOf } from "./sockets.ts";

/** The room's server-side socket of the connection named `name` (`null`: the one not yet joined). */
function socketOf(state: DurableObjectState, name: string | null): WebSocket {
	const ws = state.getWebSockets().find((socket) => Connection.restore(socket, new Set())?.name === name);
	if (!ws) throw new Error(`no socket for ${name}`);
	return ws;
}

/** Hands frames to the room back to back, in one burst: `[sender name, frame]`. */
function inOneBurst(room: string, frames: [string | null, unknown][]): Promise<number> {
	return runInDurableObject(stubFor(room), async (instance: Room, state) => {
		const handled = frames.map(([name, frame]) =>
			instance.webSocketMessage(socketOf(state, name), typeof frame === "string" ? frame : JSON.stringify(frame)),
		);
		await Promise.all(handled);
		// Still inside the burst: nothing of it is written yet (a room that never kept anything has no table).
		const kept = state.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'messages'").toArray().length > 0;
		return kept ? state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM messages").one().n : 0;
	});
}

/** A messages table the room can read from but not write to (a column it does not fill). */
const UNWRITABLE_TABLE = `CREATE TABLE messages (
	id INTEGER PRIMARY KEY, sender TEXT, client_id TEXT, name TEXT NOT NULL, text TEXT NOT NULL, ts INTEGER NOT NULL,
	kind TEXT NOT NULL DEFAULT 'message', target INTEGER, user_id TEXT, required TEXT NOT NULL)`;

describe("bursts", () => {
	it("writes a burst's messages when it ends, with consecutive ids, and sends each member one batch", async () => {
		const room = freshRoom("burst");
		const alice = await connectRich(room, "alice");
		const bob = await connectRich(room, "bob");
		const watcher = await connectRich(room, "watcher");
		await alice.nextOf("join");
		await alice.nextOf("join");
		await bob.nextOf("join");
		const writtenDuringBurst = await inOneBurst(room, [
			["alice", { type: "send", clientId: "b1", text: "one" }],
			["bob", { type: "send", clientId: "b2", text: "two" }],
			["alice", { type: "send", clientId: "b3", text: "three" }],
		]);
		expect(writtenDuringBurst).toBe(0);
		const frame = JSON.parse(String(await watcher.raw.next()));
		expect(frame.type).toBe("batch");
		expect(frame.events.map((e: { id: number; text: string }) => [e.id, e.text])).toEqual([
			[1, "one"],
			[2, "two"],
			[3, "three"],
		]);
		expect(await runInDurableObject(stubFor(room), (instance: Room) => instance.storedMessageCount())).toBe(3);
	});

	it("answers a resend in the order it came: after the messages received before it", async () => {
		const room = freshRoom("burst");
		const alice = await connectRich(room, "alice");
		const first = await alice.say("first", "r1");
		await inOneBurst(room, [
			["alice", { type: "send", clientId: "r2", text: "second" }],
			["alice", { type: "send", clientId: "r1", text: "first" }],
		]);
		expect(await alice.nextEvent()).toMatchObject({ type: "message", id: 2, clientId: "r2" });
		expect(await alice.nextEvent()).toEqual(first);
	});

	it("stores a resend that arrives in the same burst as the original once", async () => {
		const room = freshRoom("burst");
		const alice = await connectRich(room, "alice");
		await inOneBurst(room, [
			["alice", { type: "send", clientId: "same", text: "hello" }],
			["alice", { type: "send", clientId: "same", text: "hello" }],
		]);
		const first = await alice.nextOf("message");
		const again = await alice.nextOf("message");
		expect(again).toEqual(first);
		expect(await runInDurableObject(stubFor(room), (instance: Room) => instance.storedMessageCount())).toBe(1);
	});

	it("gives a newcomer whose hello shares a burst with messages those messages once, in its history", async () => {
		const room = freshRoom("burst");
		const alice = await connectRich(room, "alice");
		const newcomer = await connectRichRaw(room);
		await inOneBurst(room, [
			["alice", { type: "send", clientId: "early", text: "before you came" }],
			[null, { type: "hello", name: "carol" }],
		]);
		const welcome = await newcomer.nextEvent();
		expect(welcome).toMatchObject({ type: "welcome", latestId: 1 });
		expect(welcome.type === "welcome" && welcome.history.map(textOf)).toEqual(["before you came"]);
		await alice.say("after");
		// The next message the newcomer gets is the later one: the early one came only in its history.
		expect(await newcomer.nextEvent()).toMatchObject({ type: "message", id: 2, text: "after" });
	});

	it("keeps a plain client's frames in the order it sent them (text is stored, binary and empty are not)", async () => {
		const room = freshRoom("burst");
		const sender = await connect(room);
		const listener = await connect(room);
		sender.socket.send("first");
		sender.socket.send(new Uint8Array([1, 2, 3]));
		sender.socket.send("");
		sender.socket.send("last");
		const got: (string | number[])[] = [];
		for (let i = 0; i < 4; i++) {
			const frame = await listener.next();
			got.push(typeof frame === "string" ? frame : [...new Uint8Array(frame)]);
		}
		expect(got).toEqual(["first", [1, 2, 3], "", "last"]);
	});

	it("sends what the burst holds for a client that closes (its own last message) ahead of the Close reply", async () => {
		const room = freshRoom("burst");
		const leaving = await connect(room);
		const watcher = await connectRich(room, "watcher");
		// The message and the Close in one burst, as when both arrive in one read. (Over TCP the
		// runtime must also leave the reply to the room: web_socket_manual_reply_to_close, pinned by
		// the conformance case "a message then a Close".)
		await runInDurableObject(stubFor(room), async (instance: Room, state) => {
			const ws = socketOf(state, "guest");
			await instance.webSocketMessage(ws, "last words");
			await instance.webSocketClose(ws, 1000, "bye");
		});
		expect(await leaving.next()).toBe("last words");
		expect((await leaving.closed).code).toBe(1000);
		expect(await watcher.nextOf("message")).toMatchObject({ name: "guest", text: "last words" });
		expect(await watcher.nextEvent()).toEqual({ type: "leave", name: "guest" });
	});

	it("sends what the burst holds for a client the room closes (its last good message) ahead of the Close", async () => {
		const room = freshRoom("burst");
		const sender = await connect(room);
		const watcher = await connectRich(room, "watcher");
		await inOneBurst(room, [
			["guest", "fine"],
			["guest", "x".repeat(16_385)],
		]);
		expect(await sender.next()).toBe("fine");
		expect((await sender.closed).code).toBe(1009);
		expect(await watcher.nextOf("message")).toMatchObject({ name: "guest", text: "fine" });
	});

	it("when a burst cannot be written, tells every sender in it, shows its messages to nobody, and gives the ids again", async () => {
		const room = freshRoom("burst");
		const alice = await connectRich(room, "alice");
		const bob = await connectRich(room, "bob");
		const plain = await connect(room);
		const watcher = await connectRich(room, "watcher");
		// The room keeps something (its tables exist), and then cannot write its log.
		await watcher.say("kept");
		await runInDurableObject(stubFor(room), (_r, state) => {
			state.storage.sql.exec("DROP TABLE messages");
			state.storage.sql.exec(UNWRITABLE_TABLE);
		});
		await inOneBurst(room, [
			["alice", { type: "send", clientId: "a1", text: "lost" }],
			["bob", { type: "send", clientId: "b1", text: "lost too" }],
			["guest", "plain and lost"],
			// A retry within the burst is refused too: it was not stored either.
			["alice", { type: "send", clientId: "a1", text: "lost" }],
		]);
		expect(await alice.nextOf("error")).toMatchObject({ code: "server_error", clientId: "a1" });
		expect(await alice.nextOf("error")).toMatchObject({ code: "server_error", clientId: "a1" });
		expect(await bob.nextOf("error")).toMatchObject({ code: "server_error", clientId: "b1" });
		expect((await plain.closed).code).toBe(1011);
		// The watcher saw the plain client leave and none of the messages.
		expect(await watcher.nextOf("leave")).toEqual({ type: "leave", name: "guest" });
		alice.send({ type: "typing" });
		expect(await watcher.nextEvent()).toEqual({ type: "typing", name: "alice" });
		// Storage repaired (a fresh instance recreates its table): the resend is stored, with the
		// first id after the log's (empty now) newest.
		await runInDurableObject(stubFor(room), (_r, state) => state.storage.sql.exec("DROP TABLE messages"));
		await evictDurableObject(stubFor(room));
		expect(await alice.say("lost", "a1")).toMatchObject({ id: 1, clientId: "a1" });
	});
});
