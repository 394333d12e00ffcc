import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

/** Sends a request through the real Worker (static assets first, then src/worker/worker.ts). */
function get(path: string, init?: RequestInit): Promise<Response> {
	return exports.default.fetch(`http://chat.test${path}`, init);
}

const upgrade = { headers: { Upgrade: "websocket" } };

describe("routing", () => {
	it("answers an upgrade on the socket path with 101 and a socket", async () => {
		const response = await get("/api/rooms/lobby/websocket", upgrade);
		expect(response.status).toBe(101);
		expect(response.webSocket).toBeTruthy();
		response.webSocket?.accept();
		response.webSocket?.close(1000, "done");
	});

	it("accepts the Upgrade header in any case", async () => {
		const response = await get("/api/rooms/lobby/websocket", { headers: { Upgrade: "WebSocket" } });
		expect(response.status).toBe(101);
		response.webSocket?.accept();
		response.webSocket?.close(1000);
	});

	it("answers 426 with an Upgrade header when the socket path is fetched without upgrading", async () => {
		const response = await get("/api/rooms/lobby/websocket");
		expect(response.status).toBe(426);
		expect(response.headers.get("Upgrade")).toBe("websocket");
		expect(await response.text()).toMatch(/WebSocket/);
	});

	// An in-process upgrade through a service binding always arrives as GET (workerd opens
	// WebSockets with GET), so a non-GET *upgrade* is tested over real HTTP in test/e2e.
	it.each(["POST", "PUT", "DELETE"])("answers 405 to %s on the socket path, naming GET as allowed", async (method) => {
		const response = await get("/api/rooms/lobby/websocket", { method });
		expect(response.status).toBe(405);
		expect(response.headers.get("Allow")).toBe("GET");
	});

	it.each([
		["empty", "", /empty/],
		["65 characters", "a".repeat(65), /longer than 64/],
		["a path escape", "..%2Fx", /only contain/],
		["a slash", "a/b", /only contain/],
		["a space", "a%20b", /only contain/],
		["non-ASCII", "caf%C3%A9", /only contain/],
		["a NUL byte", "%00", /only contain/],
		["broken percent-encoding", "%E0%A4%A", /percent-encoding/],
	])("refuses a room name with %s: 400 with a one-line reason, before any upgrade", async (_, name, reason) => {
		const response = await get(`/api/rooms/${name}/websocket`, upgrade);
		expect(response.status).toBe(400);
		expect(response.webSocket).toBeNull();
		const body = await response.text();
		expect(body).toMatch(reason);
		expect(body.trim().split("\n")).toHaveLength(1);
	});

	it("accepts a 64-character room name made of every allowed character class", async () => {
		const name = `${"Az09_-".repeat(10)}abcd`;
		expect(name).toHaveLength(64);
		const response = await get(`/api/rooms/${name}/websocket`, upgrade);
		expect(response.status).toBe(101);
		response.webSocket?.accept();
		response.webSocket?.close(1000);
	});

	it.each(["/nope", "/api", "/api/rooms/lobby/stats", "/api/rooms/lobby/websocket/extra"])(
		"answers 404 for %s",
		async (path) => {
			const response = await get(path);
			expect(response.status).toBe(404);
		},
	);
});
