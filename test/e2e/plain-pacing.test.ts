/**
 * Plain flood control paces instead of dropping, just under and just over its bound, with a
 * one-second window so that a whole window's worth is released within the test: 5 at once, then
 * 10 per second.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMiniflare } from "../../scripts/local-server.ts";
import { openClient } from "../support/clients.ts";
import { freshRoom } from "../support/room-names.ts";

const BUCKET = 5;
const RATE = 10;

let server: Awaited<ReturnType<typeof startMiniflare>>;

beforeAll(async () => {
	server = await startMiniflare({
		vars: { RATE_LIMIT_MESSAGES: String(RATE), RATE_LIMIT_WINDOW_SECONDS: "1", RATE_LIMIT_BUCKET: String(BUCKET) },
	});
});
afterAll(() => server?.stop());

describe("plain pacing", () => {
	it("delivers the burst at once and holds a window's worth more, all in order (just under the bound)", async () => {
		const url = server.socketUrl(freshRoom("pace"));
		const sender = await openClient(url);
		const listener = await openClient(url);
		const texts = Array.from({ length: BUCKET + RATE }, (_, i) => `m${i}`);
		for (const text of texts) sender.socket.send(text);
		expect((await listener.waitForFrames(texts.length)).map((f) => f.text)).toEqual(texts);
		expect((await sender.waitForFrames(texts.length)).map((f) => f.text)).toEqual(texts);
		expect(sender.socket.readyState).toBe(sender.socket.OPEN);
	});

	it("closes with 1008 and a reason at one frame past the bound, binary frames counted alike", async () => {
		const url = server.socketUrl(freshRoom("pace"));
		const sender = await openClient(url);
		const listener = await openClient(url);
		for (let i = 0; i < BUCKET + RATE; i++) sender.socket.send(Buffer.from([i]));
		sender.socket.send("one too many");
		expect(await sender.closed).toEqual({ code: 1008, reason: "too many messages" });
		listener.socket.send("after");
		const seen: number[] = [];
		let frame = await listener.next();
		for (; frame.isBinary; frame = await listener.next()) seen.push(frame.data[0] as number);
		expect(frame.text).toBe("after");
		// The burst, and at most what was released before the flood was seen (a token every 100 ms),
		// in order; nothing of what was still held.
		expect(seen.length).toBeGreaterThanOrEqual(BUCKET);
		expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i));
	});
});
