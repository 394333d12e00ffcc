/**
 * A public room under one anonymous script, with wrangler.toml exactly as shipped (flood control
 * on): every kind of frame costs its sender (src/wire/limits.ts `FRAME_BUCKET`), padded typing is
 * refused, a socket that never says hello is let go, and the per-address cap is the documented
 * one. Each attack shows what the attacker gets, and that another member lost nothing.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FRAME_BUCKET, FRAME_STRIKES, HELLO_TIMEOUT_MS, SMALL_FRAME_BYTES } from "../../../src/wire/limits.ts";
import type { SingleServerEvent } from "../../../src/wire/protocol.ts";
import { freshRoom } from "../rooms.ts";
import { connectRich, connectRichRaw, nextMessages } from "../sockets.ts";

describe("every frame costs its sender", () => {
	it("closes a socket sending typing frames as fast as it can (1008) after FRAME_STRIKES over its budget; the others chat on", async () => {
		const room = freshRoom("typing-flood");
		const bob = await connectRich(room, "bob");
		const mallory = await connectRich(room, "mallory");
		await bob.nextOf("join");
		for (let i = 0; i < FRAME_BUCKET + FRAME_STRIKES + 50; i++) mallory.send({ type: "typing" });
		const closed = await mallory.raw.closed;
		expect({ code: closed.code, reason: closed.reason }).toEqual({ code: 1008, reason: "too many messages" });
		// It was told, frame by frame, before it was closed: rate_limited, with when to try again.
		const refusals = [];
		for (;;) {
			const event: SingleServerEvent = await mallory.nextEvent();
			if (event.type === "error") refusals.push(event);
			if (refusals.length === FRAME_STRIKES - 1) break;
		}
		for (const refusal of refusals) {
			expect(refusal).toMatchObject({ code: "rate_limited" });
			expect(refusal.retryAfterMs).toBeGreaterThan(0);
		}
		// Bob heard mallory type once (the room passes typing on once per 2 s), and chats on.
		const bobTyping = await bob.nextOf("typing");
		expect(bobTyping.name).toBe("mallory");
		const carol = await connectRich(room, "carol");
		await carol.say("still here");
		expect((await nextMessages(bob, 1))[0]).toMatch(/ still here$/);
	});

	it("refuses a typing frame padded past SMALL_FRAME_BYTES, and counts it as a frame that broke the rules", async () => {
		const room = freshRoom("padded");
		const mallory = await connectRich(room, "mallory");
		const padded = JSON.stringify({ type: "typing", padding: "x".repeat(16_000) });
		expect(padded.length).toBeGreaterThan(SMALL_FRAME_BYTES);
		mallory.raw.socket.send(padded);
		expect(await mallory.nextOf("error")).toMatchObject({ code: "bad_event" });
		// A few of them exhaust the message allowance (5 at once): then rate_limited, then closed.
		for (let i = 0; i < 40; i++) mallory.raw.socket.send(padded);
		const closed = await mallory.raw.closed;
		expect(closed.code).toBe(1008);
	});
});

describe("a socket that never says hello", () => {
	it(`is closed (1008) after ${HELLO_TIMEOUT_MS / 1000} s: it holds no place in the room for nothing`, async () => {
		const room = freshRoom("no-hello");
		const { raw } = await connectRichRaw(room);
		const closed = await raw.closed;
		expect({ code: closed.code, reason: closed.reason }).toEqual({
			code: 1008,
			reason: `no hello within ${HELLO_TIMEOUT_MS / 1000} s`,
		});
	}, 30_000);
});

describe("limits that hold against one host", () => {
	it("ships a per-address cap that a handful of addresses cannot turn into a lock-out", () => {
		const perAddress = Number(env.MAX_CONNECTIONS_PER_ADDRESS);
		expect(perAddress).toBe(100);
		// Filling a room takes a thousand addresses (an IPv6 one counts by its /64).
		expect(Number(env.MAX_CONNECTIONS) / perAddress).toBe(1_000);
		expect(Number(env.PLAIN_IDLE_TIMEOUT_SECONDS)).toBe(3_600);
	});
});
