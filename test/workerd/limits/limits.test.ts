/**
 * The abuse limits with wrangler.toml exactly as shipped: frame size, flood control, and the
 * flood-control state surviving eviction. Each limit is shown from both sides.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Session } from "../../../src/hub/connection.ts";
import { freshRoom, inRoom, stubFor } from "../rooms.ts";
import { connect, connectRich } from "../sockets.ts";

const MAX_FRAME = Number(env.MAX_FRAME_BYTES);
const BUCKET = Number(env.RATE_LIMIT_BUCKET);
const RATE = Number(env.RATE_LIMIT_MESSAGES);

describe("shipped defaults", () => {
	it("are the documented ones", () => {
		expect([MAX_FRAME, RATE, Number(env.RATE_LIMIT_WINDOW_SECONDS), BUCKET]).toEqual([16384, 10, 10, 5]);
		expect(Number(env.MAX_CONNECTIONS)).toBe(100_000);
		expect(Number(env.SHARD_SIZE)).toBe(10_000);
		expect(Number(env.HEARTBEAT_TIMEOUT_SECONDS)).toBe(90);
		expect(Number(env.MAX_BUFFERED_BYTES)).toBe(1024 * 1024);
		expect([Number(env.MESSAGE_CAP), Number(env.RICH_MESSAGE_CAP)]).toEqual([50, 2_000]);
		expect([Number(env.HISTORY_REPLAY), Number(env.HISTORY_RETENTION)]).toEqual([50, 10_000]);
	});
});

describe("frame size", () => {
	it("takes a rich frame of exactly the limit and closes one a byte over with 1009; the room carries on", async () => {
		const room = freshRoom("frame");
		const alice = await connectRich(room, "alice");
		const bob = await connectRich(room, "bob");
		await alice.nextOf("join");
		// Exactly at the limit: handled (it is not valid JSON, so it gets an error event and stays open).
		alice.raw.socket.send("x".repeat(MAX_FRAME));
		expect((await alice.nextOf("error")).code).toBe("bad_json");
		alice.raw.socket.send("x".repeat(MAX_FRAME + 1));
		const closed = await alice.raw.closed;
		expect(closed.code).toBe(1009);
		expect(closed.reason).toMatch(/larger than 16384 bytes/);
		expect(await bob.nextOf("leave")).toEqual({ type: "leave", name: "alice" });
		expect((await bob.say("still here")).id).toBe(1);
	});

	it("counts UTF-8 bytes, not characters", async () => {
		const room = freshRoom("frame");
		const plain = await connect(room);
		const euro = "€"; // 3 bytes in UTF-8
		plain.socket.send(euro.repeat(Math.floor(MAX_FRAME / 3)));
		expect(await plain.next()).toBe(euro.repeat(50));
		plain.socket.send(euro.repeat(Math.floor(MAX_FRAME / 3) + 1));
		expect((await plain.closed).code).toBe(1009);
	});

	it("applies to plain binary frames too", async () => {
		const room = freshRoom("frame");
		const a = await connect(room);
		const b = await connect(room);
		a.socket.send(new Uint8Array(MAX_FRAME).buffer);
		expect(((await b.next()) as ArrayBuffer).byteLength).toBe(MAX_FRAME);
		a.socket.send(new Uint8Array(MAX_FRAME + 1).buffer);
		expect((await a.closed).code).toBe(1009);
		b.socket.send("b is fine");
		expect(await b.next()).toBe("b is fine");
	});
});

describe("flood control", () => {
	it("lets a burst through, then refuses with rate_limited and a retry-after; refused messages reach nobody", async () => {
		const room = freshRoom("flood");
		const alice = await connectRich(room, "alice");
		const bob = await connectRich(room, "bob");
		await alice.nextOf("join");
		for (let i = 0; i < BUCKET; i++) await alice.say(`ok ${i}`);
		alice.send({ type: "send", clientId: "over", text: "one too many" });
		const refused = await alice.nextOf("error");
		expect(refused).toMatchObject({ code: "rate_limited", clientId: "over" });
		expect(refused.retryAfterMs).toBeGreaterThan(0);
		expect(refused.retryAfterMs).toBeLessThanOrEqual(1000);
		// bob got exactly the burst; the refused one was never stored.
		for (let i = 0; i < BUCKET; i++) expect((await bob.nextOf("message")).text).toBe(`ok ${i}`);
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(BUCKET);
	});

	it("closes a rich client that keeps flooding (3x the limit) with 1008", async () => {
		const room = freshRoom("flood");
		const alice = await connectRich(room, "alice");
		const bob = await connectRich(room, "bob");
		for (let i = 0; i < 3 * RATE + BUCKET + 5; i++) alice.send({ type: "send", clientId: `f${i}`, text: "spam" });
		const closed = await alice.raw.closed;
		expect(closed.code).toBe(1008);
		expect(closed.reason).toBe("too many messages");
		expect(await bob.nextOf("leave")).toEqual({ type: "leave", name: "alice" });
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(BUCKET);
	});

	it("paces a plain client's short burst instead of dropping it: 6 quick messages all arrive, in order", async () => {
		const room = freshRoom("pace");
		const sender = await connect(room);
		const listener = await connect(room);
		for (let i = 0; i < BUCKET + 1; i++) sender.socket.send(`p${i}`);
		const expected = Array.from({ length: BUCKET + 1 }, (_, i) => `p${i}`);
		// The sixth waits about a second for the allowance to refill, then follows the others.
		for (const text of expected) expect(await listener.next()).toBe(text);
		for (const text of expected) expect(await sender.next()).toBe(text);
	});

	it("closes a plain client that sends more than one window's worth past its burst with 1008; held frames go nowhere", async () => {
		const room = freshRoom("flood");
		const flooder = await connect(room);
		const listener = await connect(room);
		// BUCKET go at once and RATE are held: the one after those is a flood.
		for (let i = 0; i < BUCKET + RATE + 1; i++) flooder.socket.send(`p${i}`);
		const closed = await flooder.closed;
		expect({ code: closed.code, reason: closed.reason }).toEqual({ code: 1008, reason: "too many messages" });
		listener.socket.send("listener here");
		// The listener saw the burst, then its own message: nothing that was held.
		const frames: (string | ArrayBuffer)[] = [];
		for (;;) {
			const frame = await listener.next();
			frames.push(frame);
			if (frame === "listener here") break;
		}
		expect(frames).toEqual([...Array.from({ length: BUCKET }, (_, i) => `p${i}`), "listener here"]);
	});

	it("delivers what a plain client still had held when it closes, in order", async () => {
		const room = freshRoom("pace");
		const sender = await connect(room);
		const listener = await connect(room);
		const texts = Array.from({ length: BUCKET + 3 }, (_, i) => `q${i}`);
		for (const text of texts) sender.socket.send(text);
		sender.socket.close(1000, "done");
		for (const text of texts) expect(await listener.next()).toBe(text);
		expect(await inRoom(room, (r) => r.storedMessageCount())).toBe(texts.length);
	});

	it("does not count history pages against the message allowance (they have a pace of their own)", async () => {
		const room = freshRoom("flood");
		const alice = await connectRich(room, "alice");
		for (let i = 0; i < 10; i++) alice.send({ type: "history", before: 100 + i });
		for (let i = 0; i < 10; i++) expect((await alice.nextOf("history")).retryAfterMs).toBeUndefined();
		for (let i = 0; i < BUCKET; i++) expect((await alice.say(`m${i}`)).text).toBe(`m${i}`);
	});

	it("does not count typing against the message allowance", async () => {
		const room = freshRoom("flood");
		const alice = await connectRich(room, "alice");
		for (let i = 0; i < 20; i++) alice.send({ type: "typing" });
		for (let i = 0; i < BUCKET; i++) expect((await alice.say(`m${i}`)).text).toBe(`m${i}`);
	});

	it("keeps the bucket in the socket attachment, so eviction (hibernation) refills nothing", async () => {
		const room = freshRoom("flood");
		const alice = await connectRich(room, "alice");
		for (let i = 0; i < BUCKET; i++) await alice.say(`m${i}`);
		await evictDurableObject(stubFor(room));
		const bucket = await runInDurableObject(stubFor(room), (_instance, state) => {
			const sockets = state.getWebSockets();
			expect(sockets).toHaveLength(1);
			return (sockets[0]?.deserializeAttachment() as Session | undefined)?.bucket;
		});
		// The fresh instance starts from the spent bucket, not from a full one.
		expect(bucket?.tokens).toBeLessThan(1);
		expect(bucket?.updatedAt).toBeGreaterThan(Date.now() - 60_000);
	});
});
