/**
 * The slow-consumer policy over loopback: a client that stops reading (its `ws` socket paused,
 * so the kernel's buffers fill and then the runtime's) is closed with 1013 once more than
 * MAX_BUFFERED_BYTES wait for it, while clients that read get everything. Bounded: about 13 MB
 * go to each client in each case, more than the kernel's loopback buffers take for a socket
 * that is not read (a few MB), so the rest waits in the runtime, where the room can see it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMiniflare } from "../../scripts/local-server.ts";
import { DEFAULTS } from "../../src/deployment/config.ts";
import { openClient } from "../support/clients.ts";
import { joinRich } from "../support/rich-client.ts";
import { freshRoom } from "../support/room-names.ts";

/** The shipped MAX_BUFFERED_BYTES (1 MiB). */
const LIMIT = DEFAULTS.maxBufferedBytes;
const FRAME = 64 * 1024;
const FRAMES = 200;

let server: Awaited<ReturnType<typeof startMiniflare>>;

beforeAll(async () => {
	server = await startMiniflare({
		vars: {
			MAX_FRAME_BYTES: String(2 * FRAME),
			RICH_MESSAGE_CAP: String(FRAME),
			RATE_LIMIT_MESSAGES: "0",
		},
	});
});
afterAll(() => server?.stop());

describe("slow consumers", () => {
	it("closes a plain client that stopped reading with 1013 and a reason; readers get every frame", async () => {
		const url = server.socketUrl(freshRoom("slow"));
		const stalled = await openClient(url);
		const reader = await openClient(url);
		const sender = await openClient(url);
		stalled.socket.pause();
		const frame = Buffer.alloc(FRAME, 7);
		// In step with the reader, eight frames (512 KiB) at a time, so that the only one falling
		// more than MAX_BUFFERED_BYTES behind is the one that stopped reading.
		for (let i = 1; i <= FRAMES; i++) {
			sender.socket.send(frame);
			if (i % 8 === 0) await reader.waitForFrames(i);
		}
		const received = await reader.waitForFrames(FRAMES);
		expect(received.every((f) => f.isBinary && f.data.length === FRAME)).toBe(true);
		// The room looks at what is still waiting before it sends the next burst: this one.
		sender.socket.send("still here");
		expect((await reader.waitForFrames(FRAMES + 1)).at(-1)?.text).toBe("still here");
		// It sees the Close only once it reads again, after whatever was queued before it.
		stalled.socket.resume();
		expect(await stalled.closed).toEqual({ code: 1013, reason: `too slow: more than ${LIMIT} bytes unread` });
		expect(stalled.frames.length).toBeLessThan(FRAMES + 1);
		expect(stalled.frames.some((f) => f.text === "still here")).toBe(false);
		// About 10 s on an idle machine (13 MB through the runtime in steps of 512 KiB), three
		// times that while the whole suite shares the two cores: a minute and a half of room.
	}, 90_000);

	it("lets a rich client cut off for being slow reconnect and resume without a gap or a duplicate", async () => {
		const url = server.socketUrl(freshRoom("slow-rich"));
		const slow = await joinRich(url, "slow");
		const talker = await joinRich(url, "talker");
		await slow.until(() => slow.events.some((e) => e.type === "join"));
		slow.client.socket.pause();
		const text = "x".repeat(FRAME - 100);
		const cutOff = () => talker.events.some((e) => e.type === "leave" && e.name === "slow");
		// Eight at a time until the room lets the stalled client go (the talker hears it leave):
		// what it missed is then what the kernel's buffers could not hold, not everything sent.
		let sent = 0;
		while (!cutOff()) {
			if (sent === FRAMES) throw new Error(`not cut off after ${FRAMES} messages of ${FRAME} bytes`);
			for (let n = 0; n < 8; n++) talker.send(`${++sent} ${text}`, `m${sent}`);
			await talker.until(() => talker.messages.length === sent);
		}
		talker.send("one more", "last");
		await talker.until(() => talker.messages.length === sent + 1);
		slow.client.socket.resume();
		expect((await slow.client.closed).code).toBe(1013);
		const lastSeen = slow.messages.at(-1)?.id ?? 0;
		expect(lastSeen).toBeLessThan(sent + 1);
		const back = await joinRich(url, "slow", lastSeen);
		expect(back.welcome.gap).toBe(false);
		// What the welcome could not carry comes in history pages (PROTOCOL.md, "History"): at
		// most HISTORY_BYTES each (one or two of these messages), 10 at once, then 5 a second.
		await back.until(() => slow.messages.length + back.messages.length >= sent + 1);
		const ids = [...slow.messages, ...back.messages].map((m) => m.id);
		expect(ids).toEqual(Array.from({ length: sent + 1 }, (_, i) => i + 1));
	}, 90_000);
});
