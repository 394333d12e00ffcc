/**
 * The bad-input catalogue, over real sockets against workerd (miniflare API) with the shipped
 * settings: each case asserts the exact answer. Where the answer comes from the runtime rather
 * than from edgechat, the comment says so.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, startMiniflare } from "../../scripts/local-server.ts";
import { openClient } from "../support/clients.ts";
import { closeCode, closePayload, Opcode, RawWebSocket } from "../support/raw-websocket.ts";
import { joinRich } from "../support/rich-client.ts";
import { freshRoom } from "../support/room-names.ts";

let server: LocalServer;

beforeAll(async () => {
	server = await startMiniflare();
});
afterAll(() => server?.stop());

/** A raw upgrade to a room path; `null` removes a default header. */
function upgrade(path: string, headers: Record<string, string | null> = {}, method = "GET") {
	return RawWebSocket.open(server.origin, path, headers, method);
}

describe("handshake and HTTP", () => {
	it.each([
		[
			"'..' (normalised away by the URL parser, leaving an unknown API path)",
			"/api/rooms/../websocket",
			404,
			/problem:not-found/,
		],
		["an encoded '../x'", "/api/rooms/..%2Fx/websocket", 400, /only contain/],
		["%00", "/api/rooms/%00/websocket", 400, /only contain/],
		["65 characters", `/api/rooms/${"a".repeat(65)}/websocket`, 400, /longer than 64/],
		["non-ASCII", "/api/rooms/%C3%A9t%C3%A9/websocket", 400, /only contain/],
		["nothing", "/api/rooms//websocket", 400, /empty/],
	])("refuses a room name of %s before any upgrade", async (_, path, status, reason) => {
		const { response, ws } = await upgrade(path);
		expect(ws).toBeNull();
		expect(response.status).toBe(status);
		expect(response.body).toMatch(reason);
	});

	it("refuses a non-GET upgrade (400, from workerd's HTTP server, before the Worker runs)", async () => {
		const { response } = await upgrade("/api/rooms/lobby/websocket", {}, "POST");
		expect(response.status).toBe(400);
		expect(response.body).toMatch(/must be initiated with a GET request/);
	});

	it("refuses a foreign Origin with 403 and allows a missing one", async () => {
		const foreign = await upgrade(`/api/rooms/${freshRoom()}/websocket`, { Origin: "https://evil.example" });
		expect(foreign.response.status).toBe(403);
		expect(foreign.response.body).toBe("origin https://evil.example is not allowed\n");
		const missing = await upgrade(`/api/rooms/${freshRoom()}/websocket`);
		expect(missing.response.status).toBe(101);
		missing.ws?.destroy();
	});

	it("answers a handshake without Sec-WebSocket-Key as workerd does: 400 before the Worker runs", async () => {
		const { response, ws } = await upgrade(`/api/rooms/${freshRoom()}/websocket`, { "Sec-WebSocket-Key": null });
		expect(ws).toBeNull();
		expect(response.status).toBe(400);
	});

	it("answers an unsupported Sec-WebSocket-Version with 426 naming version 13 (RFC 6455 4.4; from workerd)", async () => {
		const { response, ws } = await upgrade(`/api/rooms/${freshRoom()}/websocket`, { "Sec-WebSocket-Version": "8" });
		expect(ws).toBeNull();
		expect(response.status).toBe(426);
		expect(response.headers["sec-websocket-version"]).toBe("13");
	});
});

describe("frames", () => {
	it("relays an empty text frame in plain mode and answers it with bad_json in rich mode", async () => {
		const room = freshRoom();
		const plain = await openClient(server.socketUrl(room));
		const rich = await joinRich(server.socketUrl(room), "alice");
		plain.socket.send("");
		expect((await plain.next()).text).toBe("");
		rich.client.socket.send("");
		await rich.until(() => rich.events.some((e) => e.type === "error"));
		expect(rich.events.find((e) => e.type === "error")).toMatchObject({ code: "bad_json" });
	});

	it("takes a frame at the 16 KiB limit and closes one byte over with 1009", async () => {
		const room = freshRoom();
		const a = await openClient(server.socketUrl(room));
		a.socket.send("x".repeat(16384));
		expect((await a.next()).text).toBe("x".repeat(50));
		a.socket.send("x".repeat(16385));
		expect(await a.closed).toEqual({ code: 1009, reason: "frame larger than 16384 bytes" });
	});

	it("closes a 1 MiB frame with 1009 and leaves the room usable", async () => {
		const room = freshRoom();
		const big = await openClient(server.socketUrl(room));
		const other = await joinRich(server.socketUrl(room), "other");
		big.socket.send(Buffer.alloc(1024 * 1024, 0x61));
		expect((await big.closed).code).toBe(1009);
		other.send("fine", "f1");
		await other.until(() => other.messages.length === 1);
	});

	it.each([
		["invalid JSON", "{oops", "bad_json"],
		[
			"deeply nested JSON (8,000 levels, just under the frame limit)",
			`${"[".repeat(8_000)}${"]".repeat(8_000)}`,
			"bad_event",
		],
		["a wrong field type", '{"type":"send","clientId":"a","text":["x"]}', "bad_text"],
		["a huge number", '{"type":"hello","name":"x","since":1e308}', "bad_event"],
		["an unknown event type", '{"type":"delete_everything"}', "unknown_type"],
	])("answers %s on a rich connection with a documented error and stays open", async (_, frame, code) => {
		const room = freshRoom();
		const rich = await joinRich(server.socketUrl(room), "alice");
		rich.client.socket.send(frame);
		await rich.until(() => rich.events.some((e) => e.type === "error"));
		expect(rich.events.find((e) => e.type === "error")).toMatchObject({ code });
		rich.send("still usable", "u1");
		await rich.until(() => rich.messages.length === 1);
	});

	it("answers a binary frame on a rich connection with binary_unsupported", async () => {
		const rich = await joinRich(server.socketUrl(freshRoom()), "alice");
		rich.client.socket.send(Buffer.from([1, 2, 3]));
		await rich.until(() => rich.events.some((e) => e.type === "error"));
		expect(rich.events.find((e) => e.type === "error")).toMatchObject({ code: "binary_unsupported" });
	});

	it.each([1004, 1006, 1015, 1016, 2999, 5000])(
		"fails a client Close carrying the code %i, which no endpoint may send, with 1002 (RFC 6455 7.4)",
		async (code) => {
			const { ws } = await upgrade(`/api/rooms/${freshRoom()}/websocket`);
			await ws?.send({ opcode: Opcode.close, payload: closePayload(code) });
			const reply = await ws?.nextClose();
			expect(reply ? closeCode(reply) : "no close frame").toBe(1002);
			ws?.destroy();
		},
	);

	it("answers a client Close carrying 1005 with an empty Close: workerd reports it as 'no status', which is indistinguishable", async () => {
		const { ws } = await upgrade(`/api/rooms/${freshRoom()}/websocket`);
		await ws?.send({ opcode: Opcode.close, payload: closePayload(1005) });
		const reply = await ws?.nextClose();
		expect(reply?.payload.length).toBe(0);
		ws?.destroy();
	});
});
