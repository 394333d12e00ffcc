/**
 * An unusable setting whose value is a secret (a webhook URL with a token in it), against workerd
 * (miniflare API): every client is answered 500 naming the setting and nothing of its value, on
 * the chat's path and the HTTP API's alike, while the server's own log (`bad_config`) says why,
 * value included, for the operator.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, startMiniflare } from "../../scripts/local-server.ts";
import { RawWebSocket } from "../support/raw-websocket.ts";

/** The secret part of the webhook URL, which must reach the log and no client. */
const TOKEN = `t0ken-${randomBytes(8).toString("hex")}`;
/** Unusable (not http or https), and carrying the token as a receiver's URL might. */
const WEBHOOK_URL = `ftp://hooks.example/edgechat?token=${TOKEN}`;
const API_KEY = randomBytes(32).toString("base64url");
const ANSWER = "server misconfigured: WEBHOOK_URL is not usable (the server's log says why)";

let server: LocalServer;
const lines: { level: string; message: string }[] = [];

beforeAll(async () => {
	server = await startMiniflare({
		vars: { WEBHOOK_URL, WEBHOOK_SECRET: `whsec_${randomBytes(32).toString("base64")}`, API_KEY },
		onLog: (line) => lines.push(line),
	});
});
afterAll(() => server?.stop());

/** The `bad_config` lines logged so far. */
const badConfigLines = () =>
	lines
		.flatMap((line) => line.message.split("\n"))
		.filter((message) => message.includes('"bad_config"'))
		.map((message) => JSON.parse(message.slice(message.indexOf("{"))) as Record<string, unknown>);

describe("a setting that is unusable", () => {
	it("is named to clients without its value, on the socket path and the API, and explained in the log", async () => {
		const upgrade = await RawWebSocket.open(server.origin, "/api/rooms/lobby/websocket");
		expect(upgrade.ws).toBeNull();
		expect(upgrade.response.status).toBe(500);
		expect(upgrade.response.body).toBe(`${ANSWER}\n`);
		// A page asking why its socket failed (a plain GET of the socket's path) is answered the same.
		const asked = await fetch(`${server.origin}/api/rooms/lobby/websocket`);
		expect(asked.status).toBe(500);
		expect(await asked.text()).toBe(`${ANSWER}\n`);

		const apiCall = await fetch(`${server.origin}/api/rooms/lobby/messages`, {
			headers: { Authorization: `Bearer ${API_KEY}` },
		});
		expect(apiCall.status).toBe(500);
		expect(apiCall.headers.get("Content-Type")).toBe("application/problem+json");
		const problem = await apiCall.json();
		expect(problem).toEqual({
			type: "tag:edgechat,2026:problem:misconfigured",
			title: "The server is misconfigured",
			status: 500,
			detail: ANSWER,
		});
		expect(JSON.stringify(problem)).not.toContain(TOKEN);

		// Once per request, each with the whole reason.
		await expect.poll(() => badConfigLines().length).toBeGreaterThanOrEqual(3);
		for (const line of badConfigLines()) {
			expect(line).toEqual({
				event: "bad_config",
				setting: "WEBHOOK_URL",
				error: `WEBHOOK_URL must be an http or https URL, got ${JSON.stringify(WEBHOOK_URL)}`,
			});
		}
	});
});
