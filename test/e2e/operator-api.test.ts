/**
 * The operator's HTTP API (docs/operating.md, "The HTTP API"; docs/api.md) against `wrangler dev`, as an
 * operator's backend would use it: with `curl`-like requests from Node, and real chat clients
 * over loopback watching what the API does to the room. Every response the tests see is kept
 * and, at the end, held against the OpenAPI document the server serves at /api/openapi.json.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, startWranglerDev, type WranglerDev } from "../../scripts/local-server.ts";
import type { ChatMessage } from "../../src/wire/log-entries.ts";
import type { DeleteNotice } from "../../src/wire/protocol.ts";
import { openClient } from "../support/clients.ts";
import { inOneWindow } from "../support/limit-window.ts";
import { ApiClient, checkAll } from "../support/openapi.ts";
import { joinRich } from "../support/rich-client.ts";
import { freshRoom } from "../support/room-names.ts";
import { signToken, TEST_SECRET } from "../support/tokens.ts";

const API_KEY = randomBytes(32).toString("base64url");
const JSON_PROBLEM = "application/problem+json";

let signed: WranglerDev;
let open: WranglerDev;
let off: WranglerDev;
/** Every response, on each server, for the document check at the end. */
let signedApi: ApiClient;
let openApi: ApiClient;
let offApi: ApiClient;

beforeAll(async () => {
	[signed, open, off] = await Promise.all([
		startWranglerDev({ vars: { AUTH_SECRET: TEST_SECRET, API_KEY } }),
		startWranglerDev({ vars: { API_KEY } }),
		startWranglerDev(),
	]);
	signedApi = new ApiClient(signed.origin, API_KEY);
	openApi = new ApiClient(open.origin, API_KEY);
	offApi = new ApiClient(off.origin, null);
}, 120_000);
afterAll(() => Promise.all([signed?.stop(), open?.stop(), off?.stop()]));

/** A socket URL of `room` on the signed server, with a token for `sub`. */
async function signedSocket(room: string, sub: string, role: "member" | "moderator" = "member"): Promise<string> {
	return `${signed.socketUrl(room)}?token=${await signToken({ sub, name: sub, room, role })}`;
}

const post = (api: ApiClient, room: string, body: unknown) =>
	api.request("POST", `/api/rooms/${room}/messages`, { body });

describe("posting and reading messages", () => {
	it("a post is stored once, reaches rich and plain clients marked as the API's, and comes back in GET", async () => {
		const room = freshRoom("api-post");
		const rich = await joinRich(await signedSocket(room, "ann"), "ann");
		const plain = await openClient(await signedSocket(room, "bob"));
		const posted = await post(signedApi, room, {
			name: "Announcements",
			text: "the room closes at six",
			clientId: "a-1",
		});
		expect(posted.status).toBe(201);
		const { id, ts } = posted.body as { id: number; ts: number };
		expect(id).toBeGreaterThan(0);

		await rich.until(() => rich.messages.some((message) => message.id === id));
		const delivered = rich.messages.find((message) => message.id === id) as ChatMessage;
		expect(delivered).toMatchObject({ name: "Announcements", text: "the room closes at six", clientId: "a-1", ts });
		expect(delivered.api).toBe(true);
		expect(delivered.userId).toBeUndefined();
		expect((await plain.next()).text).toBe("Announcements: the room closes at six");

		const page = await signedApi.request("GET", `/api/rooms/${room}/messages`);
		expect(page.status).toBe(200);
		const { type: _event, ...stored } = delivered as ChatMessage & { type: "message" };
		expect(page.body).toEqual({ messages: [stored], more: false });
		rich.client.socket.close();
		plain.socket.close();
	});

	it("a retried post with the same clientId answers the stored message and stores nothing more", async () => {
		const room = freshRoom("api-retry");
		const rich = await joinRich(await signedSocket(room, "ann"), "ann");
		const body = { name: "bot", text: "once only", clientId: "retry-1" };
		const first = await post(signedApi, room, body);
		const again = await Promise.all([post(signedApi, room, body), post(signedApi, room, body)]);
		expect(first.status).toBe(201);
		for (const repeat of again) {
			expect(repeat.status).toBe(200);
			expect(repeat.body).toEqual(first.body);
		}
		// A later message marks the end: everything before it has been delivered.
		const marker = await post(signedApi, room, { name: "bot", text: "marker" });
		const markerId = (marker.body as { id: number }).id;
		await rich.until(() => rich.messages.some((message) => message.id === markerId));
		expect(rich.messages.filter((message) => message.text === "once only")).toHaveLength(1);
		const page = (await signedApi.request("GET", `/api/rooms/${room}/messages`)).body as { messages: ChatMessage[] };
		expect(page.messages.map((message) => message.text)).toEqual(["once only", "marker"]);
		rich.client.socket.close();
	});

	it("a clientId an anonymous client sent first is not the API's: the post is stored as the API's own", async () => {
		const room = freshRoom("api-preempt");
		const mallory = await joinRich(open.socketUrl(room), "mallory");
		mallory.send("the room is closed, go home", "close-2026-12-05");
		await mallory.until(() => mallory.messages.some((message) => message.clientId === "close-2026-12-05"));
		const posted = await post(openApi, room, {
			name: "Announcements",
			text: "The room closes at 18:00.",
			clientId: "close-2026-12-05",
		});
		expect(posted.status).toBe(201);
		const { id } = posted.body as { id: number };
		await mallory.until(() => mallory.messages.some((message) => message.id === id));
		expect(mallory.messages.find((message) => message.id === id)).toMatchObject({
			name: "Announcements",
			text: "The room closes at 18:00.",
			api: true,
		});
		// And the API's retry is its own message again.
		const again = await post(openApi, room, { name: "Announcements", text: "x", clientId: "close-2026-12-05" });
		expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: posted.body });
		mallory.client.socket.close();
	});

	it("a reply names the message it answers; a reply to a message that is not there is 422", async () => {
		const room = freshRoom("api-reply");
		const question = await post(signedApi, room, { name: "asker", text: "anyone here?" });
		const questionId = (question.body as { id: number }).id;
		const reply = await post(signedApi, room, { name: "bot", text: "yes", replyTo: questionId });
		expect(reply.status).toBe(201);
		const page = (await signedApi.request("GET", `/api/rooms/${room}/messages`)).body as { messages: ChatMessage[] };
		expect(page.messages.at(-1)?.replyTo).toMatchObject({ id: questionId, name: "asker", excerpt: "anyone here?" });

		const dangling = await post(signedApi, room, { name: "bot", text: "to nothing", replyTo: questionId + 100 });
		expect(dangling.status).toBe(422);
		expect(dangling.headers.get("Content-Type")).toBe(JSON_PROBLEM);
		expect(dangling.body).toMatchObject({ status: 422, errors: [{ pointer: "#/replyTo" }] });
	});

	it("pages through a room's history with before, after and limit, saying whether there are more", async () => {
		const room = freshRoom("api-pages");
		const ids: number[] = [];
		for (let i = 1; i <= 5; i++)
			ids.push(((await post(signedApi, room, { name: "bot", text: `m${i}` })).body as { id: number }).id);
		const page = async (query: string) =>
			(await signedApi.request("GET", `/api/rooms/${room}/messages?${query}`)).body as {
				messages: ChatMessage[];
				more: boolean;
			};
		const texts = (result: { messages: ChatMessage[] }) => result.messages.map((message) => message.text);

		const newest = await page("limit=2");
		expect(texts(newest)).toEqual(["m4", "m5"]);
		expect(newest.more).toBe(true);
		const older = await page(`before=${ids[3]}&limit=2`);
		expect(texts(older)).toEqual(["m2", "m3"]);
		expect(older.more).toBe(true);
		const oldest = await page(`before=${ids[1]}&limit=2`);
		expect(texts(oldest)).toEqual(["m1"]);
		expect(oldest.more).toBe(false);
		const fromStart = await page("after=0&limit=3");
		expect(texts(fromStart)).toEqual(["m1", "m2", "m3"]);
		expect(fromStart.more).toBe(true);
		const between = await page(`after=${ids[0]}&before=${ids[4]}&limit=10`);
		expect(texts(between)).toEqual(["m2", "m3", "m4"]);
		expect(between.more).toBe(false);
	});

	it("deletes a message for everyone; deleting it again is 204, a message that never was is 404", async () => {
		const room = freshRoom("api-delete");
		const rich = await joinRich(await signedSocket(room, "ann"), "ann");
		const id = ((await post(signedApi, room, { name: "bot", text: "oops" })).body as { id: number }).id;
		const removed = await signedApi.request("DELETE", `/api/rooms/${room}/messages/${id}`);
		expect(removed.status).toBe(204);
		await rich.until(() => rich.events.some((event) => event.type === "delete"));
		const deletion = rich.events.find((event) => event.type === "delete") as DeleteNotice;
		expect(deletion).toMatchObject({ target: id, api: true });
		const page = (await signedApi.request("GET", `/api/rooms/${room}/messages`)).body as { messages: ChatMessage[] };
		expect(page.messages[0]).toMatchObject({ id, deleted: true, text: "" });

		expect((await signedApi.request("DELETE", `/api/rooms/${room}/messages/${id}`)).status).toBe(204);
		const missing = await signedApi.request("DELETE", `/api/rooms/${room}/messages/${id + 50}`);
		expect(missing.status).toBe(404);
		expect(missing.headers.get("Content-Type")).toBe(JSON_PROBLEM);
		rich.client.socket.close();
	});
});

describe("moderation from the backend (signed mode)", () => {
	it("a ban closes the user's connections with 4003 and keeps them out until it is lifted", async () => {
		const room = freshRoom("api-ban");
		const troll = await joinRich(await signedSocket(room, "troll"), "troll");
		const banned = await signedApi.request("PUT", `/api/rooms/${room}/bans/troll`, { body: { seconds: 600 } });
		expect(banned.status).toBe(200);
		const { until } = banned.body as { userId: string; until: number };
		expect(banned.body).toMatchObject({ userId: "troll" });
		expect(until).toBeGreaterThan(Date.now() + 590_000);
		expect((await troll.client.closed).code).toBe(4003);
		await expect(openClient(await signedSocket(room, "troll"), ["edgechat.v1"])).rejects.toThrow(/403/);

		expect((await signedApi.request("DELETE", `/api/rooms/${room}/bans/troll`)).status).toBe(204);
		const back = await joinRich(await signedSocket(room, "troll"), "troll");
		expect(back.welcome.type).toBe("welcome");
		back.client.socket.close();
	});

	it("a kick closes every connection of the user with 4001 and says whether there were any", async () => {
		const room = freshRoom("api-kick");
		const first = await joinRich(await signedSocket(room, "noisy"), "noisy");
		const second = await openClient(await signedSocket(room, "noisy"));
		const bystander = await joinRich(await signedSocket(room, "calm"), "calm");
		const kicked = await signedApi.request("POST", `/api/rooms/${room}/kicks/noisy`);
		expect(kicked).toMatchObject({ status: 200, body: { userId: "noisy", present: true } });
		expect((await first.client.closed).code).toBe(4001);
		expect((await second.closed).code).toBe(4001);
		const absent = await signedApi.request("POST", `/api/rooms/${room}/kicks/nobody`);
		expect(absent).toMatchObject({ status: 200, body: { userId: "nobody", present: false } });
		expect(bystander.client.socket.readyState).toBe(bystander.client.socket.OPEN);
		bystander.client.socket.close();
	});

	it("answers the room's size to the API key, and to nobody without one in signed mode", async () => {
		const room = freshRoom("api-stats");
		const member = await joinRich(await signedSocket(room, "ann"), "ann");
		const stats = await signedApi.request("GET", `/api/rooms/${room}`);
		expect(stats).toMatchObject({ status: 200, body: { connections: 1, members: 1 } });
		const anonymous = await signedApi.request("GET", `/api/rooms/${room}`, { key: null });
		expect(anonymous.status).toBe(401);
		member.client.socket.close();
	});
});

describe("problem details for every bad request", () => {
	const room = freshRoom("api-problems");

	/** Sends `request` and expects problem details of `status` whose `errors` name `fields` (pointers or parameters). */
	async function refused(
		request: Promise<{ status: number; headers: Headers; body: unknown }>,
		status: number,
		fields: string[] = [],
	) {
		const answer = await request;
		expect(answer.status).toBe(status);
		expect(answer.headers.get("Content-Type")).toBe(JSON_PROBLEM);
		const body = answer.body as { type: string; status: number; errors?: { pointer?: string; parameter?: string }[] };
		expect(body.status).toBe(status);
		expect(body.type).toMatch(/^tag:edgechat,2026:problem:[a-z-]+$/);
		expect((body.errors ?? []).map((error) => error.pointer ?? error.parameter)).toEqual(fields);
		return answer;
	}

	it("401 without the key or with a wrong one, saying how to authenticate", async () => {
		const none = await refused(signedApi.request("GET", `/api/rooms/${room}/messages`, { key: null }), 401);
		expect(none.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
		await refused(signedApi.request("GET", `/api/rooms/${room}/messages`, { key: `${API_KEY}x` }), 401);
		await refused(signedApi.request("GET", `/api/rooms/${room}/messages`, { key: API_KEY.slice(1) }), 401);
	});

	it("400 naming the field: a room name, an id, a query parameter, a body field", async () => {
		await refused(signedApi.request("GET", "/api/rooms/no%20spaces/messages"), 400, ["name"]);
		await refused(signedApi.request("GET", `/api/rooms/${"r".repeat(65)}/messages`), 400, ["name"]);
		await refused(signedApi.request("DELETE", `/api/rooms/${room}/messages/abc`), 400, ["id"]);
		await refused(signedApi.request("DELETE", `/api/rooms/${room}/messages/0`), 400, ["id"]);
		await refused(signedApi.request("GET", `/api/rooms/${room}/messages?limit=0`), 400, ["limit"]);
		await refused(signedApi.request("GET", `/api/rooms/${room}/messages?before=-1`), 400, ["before"]);
		await refused(signedApi.request("GET", `/api/rooms/${room}/messages?after=5&before=5`), 400, ["after"]);
		await refused(post(signedApi, room, { name: "bot" }), 400, ["#/text"]);
		await refused(post(signedApi, room, { name: "bot", text: "hi", extra: 1 }), 400, ["#/extra"]);
		await refused(post(signedApi, room, { name: "bot", text: "hi", clientId: "has space" }), 400, ["#/clientId"]);
		await refused(post(signedApi, room, { name: "bot", text: "hi", replyTo: 1.5 }), 400, ["#/replyTo"]);
		await refused(post(signedApi, room, { name: "bell\u0007", text: "   " }), 400, ["#/name", "#/text"]);
		await refused(post(signedApi, room, { name: "bot", text: "invoice\u202Efdp.exe" }), 400, ["#/text"]);
		await refused(post(signedApi, room, { name: "bot", text: "x".repeat(100_000) }), 413);
		await refused(post(signedApi, room, [1, 2]), 400, ["#"]);
		await refused(signedApi.request("PUT", `/api/rooms/${room}/bans/u1`, { body: { seconds: 0 } }), 400, ["#/seconds"]);
		await refused(
			signedApi.request("PUT", `/api/rooms/${room}/bans/${"u".repeat(200)}`, { body: { seconds: 5 } }),
			400,
			["userId"],
		);
	});

	it("400 for a body that is not JSON, 415 for one that is not declared as JSON", async () => {
		const path = `/api/rooms/${room}/messages`;
		await refused(
			signedApi.request("POST", path, { rawBody: "{not json", headers: { "Content-Type": "application/json" } }),
			400,
		);
		await refused(
			signedApi.request("POST", path, { rawBody: "hello", headers: { "Content-Type": "text/plain" } }),
			415,
		);
		await refused(signedApi.request("POST", path, { rawBody: '{"name":"a","text":"b"}' }), 415);
	});

	it("413 for a body over MAX_FRAME_BYTES, however it is sent", async () => {
		const big = JSON.stringify({ name: "bot", text: "y".repeat(70_000) });
		await refused(
			signedApi.request("POST", `/api/rooms/${room}/messages`, {
				rawBody: big,
				headers: { "Content-Type": "application/json" },
			}),
			413,
		);
	});

	it("405 with Allow for a method a route does not have, 404 for a route that is not there", async () => {
		const wrongMethod = await refused(signedApi.request("PATCH", `/api/rooms/${room}/messages`), 405);
		expect(wrongMethod.headers.get("Allow")?.split(", ").sort()).toEqual(["GET", "HEAD", "POST"]);
		await refused(signedApi.request("GET", `/api/rooms/${room}/nothing-here`), 404);
		await refused(signedApi.request("GET", "/api/not-a-route"), 404);
	});

	it("409 for kicks and bans in open mode, which has no users", async () => {
		const openRoom = freshRoom("api-open");
		await refused(openApi.request("PUT", `/api/rooms/${openRoom}/bans/u1`, { body: { seconds: 60 } }), 409);
		await refused(openApi.request("DELETE", `/api/rooms/${openRoom}/bans/u1`), 409);
		await refused(openApi.request("POST", `/api/rooms/${openRoom}/kicks/u1`), 409);
	});

	it("answers the room's size and the document without the key in open mode, 401 elsewhere, as docs/operating.md's API section says", async () => {
		const section = readFileSync(path.join(ROOT, "docs/operating.md"), "utf8")
			.split("\n## The HTTP API")[1]
			?.split("\n## ")[0]
			?.replace(/\s+/g, " ");
		expect(section).toContain("missing or wrong: `401`");
		expect(section).toContain("Two exceptions need no key: `/api/openapi.json`, and `GET /api/rooms/NAME`");
		const keyless = freshRoom("api-keyless");
		expect((await openApi.request("GET", `/api/rooms/${keyless}`, { key: null })).status).toBe(200);
		expect((await openApi.request("GET", "/api/openapi.json", { key: null })).status).toBe(200);
		await refused(openApi.request("GET", `/api/rooms/${keyless}/messages`, { key: null }), 401);
	});

	it("404 for every route when the server has no API_KEY, but the room's size still answers in open mode", async () => {
		const offRoom = freshRoom("api-off");
		await refused(post(offApi, offRoom, { name: "bot", text: "hi" }), 404);
		await refused(offApi.request("GET", `/api/rooms/${offRoom}/messages`, { key: API_KEY }), 404);
		await refused(offApi.request("GET", "/api/openapi.json"), 404);
		expect((await offApi.request("GET", `/api/rooms/${offRoom}`)).status).toBe(200);
	});
});

describe("open mode", () => {
	it("a post reaches a plain client as `name: text` and a rich one as the API's message", async () => {
		const room = freshRoom("api-open-post");
		const plain = await openClient(open.socketUrl(room));
		const rich = await joinRich(open.socketUrl(room), "ann");
		const posted = await post(openApi, room, { name: "Weather bot", text: "rain at noon" });
		expect(posted.status).toBe(201);
		expect((await plain.next()).text).toBe("Weather bot: rain at noon");
		await rich.until(() => rich.messages.some((message) => message.text === "rain at noon"));
		expect(rich.messages.at(-1)).toMatchObject({ name: "Weather bot", clientId: null, api: true });
		// The operator's own name, which no member may take, is the API's to post under.
		expect((await post(openApi, room, { name: "API", text: "maintenance at six" })).status).toBe(201);
		await rich.until(() => rich.messages.some((message) => message.text === "maintenance at six"));
		expect(rich.messages.at(-1)).toMatchObject({ name: "API", api: true });
		plain.socket.close();
		rich.client.socket.close();
	});
});

describe("room settings", () => {
	it("a change through the API reaches every member, and slow mode then holds a member to its interval", async () => {
		const room = freshRoom("api-settings");
		const sam = await joinRich(await signedSocket(room, "sam"), "sam");
		expect(sam.welcome.settings).toEqual({ slowModeSeconds: 0, postingRole: "everyone", retentionDays: 0 });
		const changed = await signedApi.request("PATCH", `/api/rooms/${room}/settings`, { body: { slowModeSeconds: 60 } });
		expect(changed).toMatchObject({ status: 200, body: { slowModeSeconds: 60, postingRole: "everyone" } });
		await sam.until(() => sam.events.some((event) => event.type === "settings"));
		expect(sam.events.find((event) => event.type === "settings")).toMatchObject({
			settings: { slowModeSeconds: 60 },
			by: "API",
		});
		sam.send("first", "s-1");
		sam.send("second, too soon", "s-2");
		await sam.until(() => sam.events.some((event) => event.type === "error"));
		expect(sam.events.find((event) => event.type === "error")).toMatchObject({ code: "slow_mode", clientId: "s-2" });
		expect(sam.messages.map((message) => message.text)).toEqual(["first"]);
		// The API itself is exempt.
		expect((await post(signedApi, room, { name: "bot", text: "not slowed" })).status).toBe(201);
		expect((await signedApi.request("GET", `/api/rooms/${room}/settings`)).body).toMatchObject({ slowModeSeconds: 60 });
		sam.client.socket.close();
	});

	it("names the field of a change that is not valid", async () => {
		const room = freshRoom("api-settings-bad");
		const path = `/api/rooms/${room}/settings`;
		const empty = await signedApi.request("PATCH", path, { body: {} });
		expect(empty).toMatchObject({ status: 400, body: { errors: [{ pointer: "#" }] } });
		const negative = await signedApi.request("PATCH", path, { body: { slowModeSeconds: -1 } });
		expect(negative).toMatchObject({ status: 400, body: { errors: [{ pointer: "#/slowModeSeconds" }] } });
		const role = await signedApi.request("PATCH", path, { body: { postingRole: "admins" } });
		expect(role).toMatchObject({ status: 400, body: { errors: [{ pointer: "#/postingRole" }] } });
	});
});

describe("limits across connections (signed mode, wrangler.toml's flood control)", () => {
	it("one user's message allowance is shared by all its tabs", async () => {
		const room = freshRoom("shared-allowance");
		const [tabA, tabB] = [
			await joinRich(await signedSocket(room, "tabby"), "tabby"),
			await joinRich(await signedSocket(room, "tabby"), "tabby"),
		];
		// RATE_LIMIT_BUCKET is 5: each tab alone may send 5 at once, the user together 5 as well.
		for (let i = 1; i <= 3; i++) tabA.send(`a${i}`, `a-${i}`);
		for (let i = 1; i <= 3; i++) tabB.send(`b${i}`, `b-${i}`);
		await tabB.until(() => tabB.events.some((event) => event.type === "error"));
		const refused = tabB.events.find((event) => event.type === "error");
		expect(refused).toMatchObject({ code: "rate_limited", clientId: "b-3" });
		expect((refused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
		await tabA.until(() => tabA.messages.length === 5);
		expect(tabA.messages.map((message) => message.text).sort()).toEqual(["a1", "a2", "a3", "b1", "b2"]);
		// Another user has an allowance of its own.
		const other = await joinRich(await signedSocket(room, "other"), "other");
		other.send("mine", "o-1");
		await other.until(() => other.messages.some((message) => message.text === "mine"));
		for (const client of [tabA, tabB, other]) client.client.socket.close();
	});

	it("past 600 upgrades a minute from one address, the next gets 429 with Retry-After; other addresses go on", async () => {
		// An upgrade with a token that does not verify: counted, then refused cheaply (401).
		const attempt = (address: string) =>
			new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
				const request = httpRequest(`${signed.origin}/api/rooms/limit-test/websocket?token=not-a-token`, {
					headers: { Connection: "Upgrade", Upgrade: "websocket", "CF-Connecting-IP": address },
				});
				request.once("response", (response) => {
					response.resume();
					resolve({ status: response.statusCode ?? 0, headers: response.headers });
				});
				request.once("error", reject);
				request.end();
			});
		const { statuses, refused } = await inOneWindow(60, async (run) => {
			const address = `192.0.2.${10 + run}`;
			const statuses = new Set<number>();
			for (let i = 0; i < 600; i++) statuses.add((await attempt(address)).status);
			return { statuses, refused: await attempt(address) };
		});
		expect(statuses).toEqual(new Set([401]));
		expect(refused.status).toBe(429);
		expect(refused.headers["retry-after"]).toBe("60");
		expect((await attempt("192.0.2.99")).status).toBe(401);
	}, 120_000);
});

describe("the OpenAPI document", () => {
	it("is OpenAPI 3.1 with every route and webhook, and holds for every response the tests saw", async () => {
		const document = await signedApi.request("GET", "/api/openapi.json", { key: null });
		expect(document.status).toBe(200);
		const doc = document.body as Parameters<typeof checkAll>[0] & { openapi: string };
		expect(doc.openapi).toBe("3.1.0");
		expect(Object.keys(doc.webhooks ?? {}).sort()).toEqual([
			"message.created",
			"message.deleted",
			"message.edited",
			"user.banned",
			"user.kicked",
		]);
		expect(Object.keys(doc.paths).sort()).toEqual([
			"/api/rooms/{name}",
			"/api/rooms/{name}/bans/{userId}",
			"/api/rooms/{name}/kicks/{userId}",
			"/api/rooms/{name}/messages",
			"/api/rooms/{name}/messages/{id}",
			"/api/rooms/{name}/settings",
			"/api/rooms/{name}/webhooks/failed",
			"/api/rooms/{name}/webhooks/failed/retry",
		]);
		const seen = [...signedApi.seen, ...openApi.seen, ...offApi.seen];
		// Every status the tests exercised, so the check below is not vacuous.
		expect(new Set(seen.map((response) => response.status))).toEqual(
			new Set([200, 201, 204, 400, 401, 404, 405, 409, 413, 415, 422]),
		);
		expect(checkAll(doc, seen)).toEqual([]);
	});
});
