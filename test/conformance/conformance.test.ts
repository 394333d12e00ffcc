/**
 * An independent RFC 6455 conformance suite, modelled on the Autobahn|Testsuite case groups.
 *
 * It speaks raw frames over `node:net` (test/support/raw-websocket.ts; no WebSocket library on
 * the client side) to a room in plain mode: one client alone in a room is echoed, so a room is
 * an echo server. The run raises the message cap and the frame limit to 1 MiB and turns flood
 * control off through the settings.
 *
 * Every case asserts what the RFC asks. Where workerd itself answers otherwise and edgechat
 * cannot change it, the case is a `deviation`: it pins what workerd does, names the RFC
 * answer, and is listed in docs/conformance.md. The summary table is printed after the run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, startMiniflare } from "../../scripts/local-server.ts";
import {
	closeCode,
	closePayload,
	type Frame,
	Opcode,
	type OutgoingFrame,
	RawWebSocket,
} from "../support/raw-websocket.ts";
import { freshRoom } from "../support/room-names.ts";

let server: LocalServer;

beforeAll(async () => {
	server = await startMiniflare({
		vars: { MESSAGE_CAP: String(1024 * 1024), MAX_FRAME_BYTES: String(1024 * 1024), RATE_LIMIT_MESSAGES: "0" },
	});
});

type Outcome = { group: string; name: string; kind: "rfc" | "deviation"; rfc?: string; observed?: string };
const outcomes: Outcome[] = [];

afterAll(async () => {
	await server?.stop();
	const groups = new Map<string, { cases: number; passes: number; deviations: number }>();
	for (const o of outcomes) {
		const g = groups.get(o.group) ?? { cases: 0, passes: 0, deviations: 0 };
		g.cases++;
		if (o.kind === "rfc") g.passes++;
		else g.deviations++;
		groups.set(o.group, g);
	}
	const lines = ["", "RFC 6455 conformance (edgechat room, plain mode, through workerd)", ""];
	lines.push("| group | cases | as the RFC says | runtime deviations (pinned) |", "| --- | --- | --- | --- |");
	for (const [group, g] of groups) lines.push(`| ${group} | ${g.cases} | ${g.passes} | ${g.deviations} |`);
	lines.push("", "Deviations:");
	for (const o of outcomes.filter((x) => x.kind === "deviation")) {
		lines.push(`- ${o.group} / ${o.name}: RFC: ${o.rfc}; workerd: ${o.observed}`);
	}
	console.log(lines.join("\n"));
});

/** A case whose assertions are the RFC's. */
function rfcCase(group: string, name: string, run: () => Promise<void>): void {
	it(name, async () => {
		await run();
		outcomes.push({ group, name, kind: "rfc" });
	});
}

/** A case where workerd deviates from the RFC: the assertions pin what it does. */
function deviationCase(group: string, name: string, rfc: string, observed: string, run: () => Promise<void>): void {
	it(`${name} [runtime deviation: ${observed}]`, async () => {
		await run();
		outcomes.push({ group, name, kind: "deviation", rfc, observed });
	});
}

/** A fresh connection, alone in its room (so everything it sends comes back). */
async function open(): Promise<RawWebSocket> {
	const { response, ws } = await RawWebSocket.open(server.origin, `/api/rooms/${freshRoom("conformance")}/websocket`);
	expect(response.status).toBe(101);
	if (!ws) throw new Error("no connection");
	return ws;
}

async function sendAll(ws: RawWebSocket, frames: OutgoingFrame[]): Promise<void> {
	for (const frame of frames) await ws.send(frame);
}

/** The next frame must be exactly this one. */
async function expectFrame(ws: RawWebSocket, opcode: number, payload: Buffer | string): Promise<Frame> {
	const frame = await expectFrameOf(ws, opcode);
	expect(frame.payload.equals(Buffer.from(payload))).toBe(true);
	return frame;
}

/** The next frame must be a complete, unextended frame with this opcode (any payload). */
async function expectFrameOf(ws: RawWebSocket, opcode: number): Promise<Frame> {
	const frame = await ws.nextFrame();
	expect(frame, "a frame, not the end of the connection").not.toBeNull();
	expect(frame?.opcode).toBe(opcode);
	expect(frame?.fin).toBe(true);
	expect(frame?.rsv).toBe(0);
	return frame as Frame;
}

/**
 * The server must fail the connection with `code`: its Close frame must carry that code. (What
 * workerd then does with TCP is a deviation of its own, pinned once in the close group.)
 */
async function expectFailure(ws: RawWebSocket, code: number): Promise<void> {
	const close = await ws.nextClose();
	expect(close ? closeCode(close) : "TCP ended without a Close frame").toBe(code);
	ws.destroy();
}

/** A clean close from the client: the server echoes `code` (or an empty Close) and ends TCP. */
async function expectCleanClose(ws: RawWebSocket, code: number | undefined): Promise<void> {
	const close = await ws.nextClose();
	expect(close, "a Close frame").not.toBeNull();
	expect(close ? closeCode(close) : null).toBe(code);
	await ws.ended();
}

const text = (payload: Buffer | string, more: Partial<OutgoingFrame> = {}): OutgoingFrame => ({
	opcode: Opcode.text,
	payload,
	...more,
});
const binary = (payload: Buffer, more: Partial<OutgoingFrame> = {}): OutgoingFrame => ({
	opcode: Opcode.binary,
	payload,
	...more,
});
const continuation = (payload: Buffer | string, fin = true): OutgoingFrame => ({
	opcode: Opcode.continuation,
	payload,
	fin,
});

// 1 — Framing ----------------------------------------------------------------------------------
describe("1 framing", () => {
	const group = "1 framing";
	for (const length of [0, 125, 126, 127, 128, 65535, 65536]) {
		rfcCase(group, `text of ${length} bytes is echoed`, async () => {
			const ws = await open();
			const payload = "*".repeat(length);
			await ws.send(text(payload));
			await expectFrame(ws, Opcode.text, payload);
		});
		rfcCase(group, `binary of ${length} bytes is echoed`, async () => {
			const ws = await open();
			const payload = Buffer.alloc(length, 0xfe);
			await ws.send(binary(payload));
			await expectFrame(ws, Opcode.binary, payload);
		});
	}
	rfcCase(group, "a 125-byte text sent one byte per write is echoed", async () => {
		const ws = await open();
		await ws.send(text("x".repeat(125), { chop: 1 }));
		await expectFrame(ws, Opcode.text, "x".repeat(125));
	});
	rfcCase(group, "a 65536-byte binary sent in 997-byte writes is echoed", async () => {
		const ws = await open();
		const payload = Buffer.alloc(65536, 7);
		await ws.send(binary(payload, { chop: 997 }));
		await expectFrame(ws, Opcode.binary, payload);
	});
	deviationCase(
		group,
		"an unmasked client frame",
		"fail the connection (5.1: a server MUST close on an unmasked frame)",
		"accepted and echoed",
		async () => {
			const ws = await open();
			await ws.send(text("unmasked", { mask: false }));
			await expectFrame(ws, Opcode.text, "unmasked");
		},
	);
});

// 2 — Pings and pongs --------------------------------------------------------------------------
describe("2 pings and pongs", () => {
	const group = "2 pings and pongs";
	for (const length of [0, 1, 125]) {
		rfcCase(group, `a ping with ${length} bytes is answered by a pong with the same payload`, async () => {
			const ws = await open();
			const payload = Buffer.alloc(length, 0xab);
			await ws.send({ opcode: Opcode.ping, payload });
			await expectFrame(ws, Opcode.pong, payload);
		});
	}
	rfcCase(group, "a ping with a binary payload of every byte value is echoed in its pong", async () => {
		const ws = await open();
		const payload = Buffer.from(Array.from({ length: 125 }, (_, i) => (i * 2) & 0xff));
		await ws.send({ opcode: Opcode.ping, payload });
		await expectFrame(ws, Opcode.pong, payload);
	});
	rfcCase(group, "a ping sent one byte per write is answered", async () => {
		const ws = await open();
		await ws.send({ opcode: Opcode.ping, payload: "chopped", chop: 1 });
		await expectFrame(ws, Opcode.pong, "chopped");
	});
	rfcCase(group, "an unsolicited pong is ignored", async () => {
		const ws = await open();
		await sendAll(ws, [{ opcode: Opcode.pong, payload: "unasked" }, text("after")]);
		await expectFrame(ws, Opcode.text, "after");
	});
	rfcCase(group, "ten pings in a row are answered in order, the last one always (5.5.3)", async () => {
		const ws = await open();
		for (let i = 0; i < 10; i++) await ws.send({ opcode: Opcode.ping, payload: `p${i}` });
		// A pong may answer only the most recent of several pings not yet answered (RFC 6455
		// 5.5.3), and workerd's kj WebSocket does that: a pong still queued is replaced by the newer
		// one. So under load some may be skipped; those sent must come in order, ending with p9.
		const answered: number[] = [];
		while (answered.at(-1) !== 9) {
			const pong = await expectFrameOf(ws, Opcode.pong);
			answered.push(Number(pong.payload.toString().slice(1)));
		}
		expect(answered).toEqual([...answered].sort((a, b) => a - b));
		expect(new Set(answered).size).toBe(answered.length);
	});
	deviationCase(
		group,
		"a ping with 126 bytes (over the 125-byte control frame limit)",
		"fail with 1002 (5.5)",
		"answered with a 126-byte pong",
		async () => {
			const ws = await open();
			const payload = Buffer.alloc(126, 1);
			await ws.send({ opcode: Opcode.ping, payload });
			await expectFrame(ws, Opcode.pong, payload);
		},
	);
});

// 3 — Reserved bits ----------------------------------------------------------------------------
describe("3 reserved bits", () => {
	const group = "3 reserved bits";
	for (const [name, rsv] of [
		["RSV1", 4],
		["RSV2", 2],
		["RSV3", 1],
		["all three", 7],
	] as const) {
		rfcCase(group, `a text frame with ${name} set fails with 1002`, async () => {
			const ws = await open();
			await ws.send(text("x", { rsv }));
			await expectFailure(ws, 1002);
		});
	}
	rfcCase(group, "a ping with RSV3 set fails with 1002", async () => {
		const ws = await open();
		await ws.send({ opcode: Opcode.ping, payload: "x", rsv: 1 });
		await expectFailure(ws, 1002);
	});
	rfcCase(group, "a connection that has been echoing fails with 1002 at its first bad frame", async () => {
		const ws = await open();
		await ws.send(text("good"));
		await expectFrame(ws, Opcode.text, "good");
		await ws.send(text("bad", { rsv: 2 }));
		await expectFailure(ws, 1002);
	});
});

// 4 — Opcodes ----------------------------------------------------------------------------------
describe("4 opcodes", () => {
	const group = "4 opcodes";
	for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
		rfcCase(group, `reserved ${opcode < 8 ? "data" : "control"} opcode ${opcode} fails with 1002`, async () => {
			const ws = await open();
			await ws.send({ opcode, payload: "x" });
			await expectFailure(ws, 1002);
		});
	}
});

// 5 — Fragmentation ----------------------------------------------------------------------------
describe("5 fragmentation", () => {
	const group = "5 fragmentation";
	rfcCase(group, "a text in two fragments is echoed whole", async () => {
		const ws = await open();
		await sendAll(ws, [text("frag", { fin: false }), continuation("ment")]);
		await expectFrame(ws, Opcode.text, "fragment");
	});
	rfcCase(group, "a binary in three fragments, the middle one empty, is echoed whole", async () => {
		const ws = await open();
		await sendAll(ws, [
			binary(Buffer.from([1, 2]), { fin: false }),
			continuation(Buffer.alloc(0), false),
			continuation(Buffer.from([3])),
		]);
		await expectFrame(ws, Opcode.binary, Buffer.from([1, 2, 3]));
	});
	rfcCase(group, "a text in 100 one-byte fragments is echoed whole", async () => {
		const ws = await open();
		const payload = "abcdefghij".repeat(10);
		await ws.send(text(payload[0] ?? "", { fin: false }));
		for (let i = 1; i < 100; i++) await ws.send(continuation(payload[i] ?? "", i === 99));
		await expectFrame(ws, Opcode.text, payload);
	});
	rfcCase(group, "a ping between fragments is answered at once and the message still arrives", async () => {
		const ws = await open();
		await sendAll(ws, [text("be", { fin: false }), { opcode: Opcode.ping, payload: "mid" }, continuation("tween")]);
		await expectFrame(ws, Opcode.pong, "mid");
		await expectFrame(ws, Opcode.text, "between");
	});
	rfcCase(group, "a fragmented ping fails with 1002", async () => {
		const ws = await open();
		await ws.send({ opcode: Opcode.ping, payload: "x", fin: false });
		await expectFailure(ws, 1002);
	});
	rfcCase(group, "a fragmented pong fails with 1002", async () => {
		const ws = await open();
		await ws.send({ opcode: Opcode.pong, payload: "x", fin: false });
		await expectFailure(ws, 1002);
	});
	rfcCase(group, "a continuation without a start fails with 1002", async () => {
		const ws = await open();
		await ws.send(continuation("orphan"));
		await expectFailure(ws, 1002);
	});
	rfcCase(group, "a continuation after a final frame fails with 1002", async () => {
		const ws = await open();
		await ws.send(text("done"));
		await expectFrame(ws, Opcode.text, "done");
		await ws.send(continuation("late"));
		await expectFailure(ws, 1002);
	});
	rfcCase(group, "a new text frame while a fragmented message is open fails with 1002", async () => {
		const ws = await open();
		await sendAll(ws, [text("first", { fin: false }), text("second")]);
		await expectFailure(ws, 1002);
	});
});

// 6 — UTF-8 ------------------------------------------------------------------------------------
describe("6 UTF-8", () => {
	const group = "6 UTF-8";
	const valid = [
		["two-byte", "µ@ßöäüàá"],
		["three-byte", "κόσμε €"],
		["four-byte", "😀 𝄞"],
		["the highest code point", "\u{10FFFF}"],
		["U+FFFF and U+FEFF", "\uFFFF\uFEFF"],
	] as const;
	for (const [name, value] of valid) {
		rfcCase(group, `valid ${name} text is echoed`, async () => {
			const ws = await open();
			await ws.send(text(value));
			await expectFrame(ws, Opcode.text, value);
		});
	}
	rfcCase(group, "valid text split across fragments inside code points is echoed", async () => {
		const bytes = Buffer.from("κόσμε😀");
		for (let at = 1; at < bytes.length; at++) {
			const ws = await open();
			await sendAll(ws, [text(bytes.subarray(0, at), { fin: false }), continuation(bytes.subarray(at))]);
			await expectFrame(ws, Opcode.text, bytes);
			ws.destroy();
		}
	});
	const invalid = [
		["a lone 0xFF byte", [0x61, 0xff]],
		["an overlong NUL (C0 80)", [0xc0, 0x80]],
		["a UTF-16 surrogate (ED A0 80)", [0xed, 0xa0, 0x80]],
		["a code point past U+10FFFF (F4 90 80 80)", [0xf4, 0x90, 0x80, 0x80]],
		["a truncated four-byte sequence", [0xf0, 0x9f, 0x98]],
	] as const;
	for (const [name, bytes] of invalid) {
		deviationCase(
			group,
			`text with ${name}`,
			"fail with 1007 (8.1)",
			"each invalid sequence replaced with U+FFFD, connection kept",
			async () => {
				const ws = await open();
				const payload = Buffer.from(bytes);
				await sendAll(ws, [text(payload), text("after")]);
				// The WHATWG decoder's replacement, which is what workerd applies.
				await expectFrame(ws, Opcode.text, Buffer.from(payload.toString("utf8")));
				await expectFrame(ws, Opcode.text, "after");
			},
		);
	}
});

// 7 — Close handling ---------------------------------------------------------------------------
describe("7 close handling", () => {
	const group = "7 close handling";
	rfcCase(group, "an empty Close is answered with an empty Close, then TCP ends", async () => {
		const ws = await open();
		await ws.send({ opcode: Opcode.close });
		await expectCleanClose(ws, undefined);
	});
	rfcCase(group, "a Close 1000 with a reason is echoed, then TCP ends", async () => {
		const ws = await open();
		await ws.send({ opcode: Opcode.close, payload: closePayload(1000, "bye") });
		const close = await ws.nextClose();
		expect(close ? closeCode(close) : null).toBe(1000);
		await ws.ended();
	});
	rfcCase(group, "a Close with a 123-byte reason (the most that fits) is echoed", async () => {
		const ws = await open();
		await ws.send({ opcode: Opcode.close, payload: closePayload(1000, "r".repeat(123)) });
		const close = await ws.nextClose();
		expect(close?.payload.subarray(2).toString()).toBe("r".repeat(123));
		await ws.ended();
	});
	rfcCase(group, "data after the client's Close is not echoed", async () => {
		const ws = await open();
		await sendAll(ws, [{ opcode: Opcode.close, payload: closePayload(1000) }, text("too late")]);
		const frame = await ws.nextFrame();
		expect(frame?.opcode).toBe(Opcode.close);
		await ws.ended();
	});
	rfcCase(group, "a message then a Close: the message is echoed before the Close", async () => {
		const ws = await open();
		await sendAll(ws, [text("last words"), { opcode: Opcode.close, payload: closePayload(1000) }]);
		await expectFrame(ws, Opcode.text, "last words");
		await expectCleanClose(ws, 1000);
	});
	for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
		rfcCase(group, `a Close with the valid code ${code} is echoed`, async () => {
			const ws = await open();
			await ws.send({ opcode: Opcode.close, payload: closePayload(code) });
			await expectCleanClose(ws, code);
		});
	}
	for (const code of [0, 999, 1004, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
		rfcCase(group, `a Close with the invalid code ${code} fails with 1002`, async () => {
			const ws = await open();
			await ws.send({ opcode: Opcode.close, payload: closePayload(code) });
			const close = await ws.nextClose();
			expect(close ? closeCode(close) : null).toBe(1002);
			await ws.ended();
		});
	}
	deviationCase(
		group,
		"a Close with the reserved code 1005 on the wire",
		"fail with 1002 (7.4.1)",
		"reported to the room as 'no status code', so answered with an empty Close",
		async () => {
			const ws = await open();
			await ws.send({ opcode: Opcode.close, payload: closePayload(1005) });
			await expectCleanClose(ws, undefined);
		},
	);
	deviationCase(
		group,
		"a Close with a 1-byte payload",
		"fail with 1002 (5.5.1: a body must start with a 2-byte code)",
		"reported as 'no status code', answered with an empty Close",
		async () => {
			const ws = await open();
			await ws.send({ opcode: Opcode.close, payload: Buffer.from([0x03]) });
			await expectCleanClose(ws, undefined);
		},
	);
	deviationCase(
		group,
		"a Close 1000 whose reason is invalid UTF-8",
		"fail with 1007 (5.5.1)",
		"answered with 1000 and the reason's invalid bytes replaced with U+FFFD",
		async () => {
			const ws = await open();
			await ws.send({ opcode: Opcode.close, payload: closePayload(1000, Buffer.from([0x61, 0xff])) });
			const close = await ws.nextClose();
			expect(close ? closeCode(close) : null).toBe(1000);
			expect(close?.payload.subarray(2).toString()).toBe("a\uFFFD");
			await ws.ended();
		},
	);
	deviationCase(
		group,
		"TCP after the server fails a connection",
		"the failing endpoint closes TCP (7.1.7)",
		"the Close frame is sent, but TCP stays open, even after the client answers the Close",
		async () => {
			const ws = await open();
			await ws.send(text("x", { rsv: 2 }));
			const close = await ws.nextClose();
			expect(close ? closeCode(close) : null).toBe(1002);
			await ws.send({ opcode: Opcode.close, payload: closePayload(1002) });
			// A bounded look for something that does not happen: TCP is still open a while later.
			await expect(ws.ended(500)).rejects.toThrow(/timed out/);
			ws.destroy();
		},
	);
});

// 9 — Large messages ---------------------------------------------------------------------------
describe("9 large messages", () => {
	const group = "9 large messages";
	for (const size of [64 * 1024, 256 * 1024, 1024 * 1024]) {
		rfcCase(group, `a ${size / 1024} KiB text is echoed`, async () => {
			const ws = await open();
			const payload = Buffer.alloc(size, 0x2a);
			await ws.send(text(payload));
			await expectFrame(ws, Opcode.text, payload);
		});
		rfcCase(group, `a ${size / 1024} KiB binary in 64 KiB fragments is echoed`, async () => {
			const ws = await open();
			const payload = Buffer.alloc(size, 0x5a);
			const piece = 64 * 1024;
			await ws.send(binary(payload.subarray(0, piece), { fin: size === piece }));
			for (let at = piece; at < size; at += piece)
				await ws.send(continuation(payload.subarray(at, at + piece), at + piece >= size));
			await expectFrame(ws, Opcode.binary, payload);
		});
	}
	rfcCase(group, "a message one byte over the frame limit (MAX_FRAME_BYTES) is refused with 1009", async () => {
		const ws = await open();
		await ws.send(binary(Buffer.alloc(1024 * 1024 + 1)));
		const close = await ws.nextClose();
		expect(close ? closeCode(close) : null).toBe(1009);
		expect(close?.payload.subarray(2).toString()).toBe("frame larger than 1048576 bytes");
	});
});
