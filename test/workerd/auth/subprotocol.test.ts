/**
 * Where a token travels (PROTOCOL.md, "The token"): offered as the subprotocol
 * `edgechat.token.<jwt>` beside `edgechat.v1`, so that it is in no URL. The room's `101` selects
 * `edgechat.v1` alone and never echoes the token; the token is refused there exactly as in the
 * query; it comes first, before `Authorization: Bearer` and `?token=`, which still work; and
 * the Worker hands the room's objects the request without it.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { withoutToken } from "../../../src/gate/token.ts";
import type { WelcomeEvent } from "../../../src/wire/protocol.ts";
import { freshRoom } from "../rooms.ts";
import { tokenFor, unsignedToken } from "./tokens.ts";

/** An upgrade to `room` offering `protocols`, with whatever `headers` and `query` add. */
function upgrade(room: string, protocols: string | null, headers: Record<string, string> = {}, query = "") {
	return exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket${query}`, {
		headers: {
			Upgrade: "websocket",
			...(protocols === null ? {} : { "Sec-WebSocket-Protocol": protocols }),
			...headers,
		},
	});
}

/** The offer a signed-mode client makes: the protocol, and its token. */
const offer = (token: string) => `edgechat.v1, edgechat.token.${token}`;

/** The status and reason of a refused upgrade. */
async function refusal(response: Response): Promise<[number, string]> {
	expect(response.webSocket).toBeNull();
	return [response.status, (await response.text()).trim()];
}

/** Accepts an upgraded socket, says hello and resolves with the welcome. */
async function welcomeOf(response: Response): Promise<WelcomeEvent> {
	const socket = response.webSocket as WebSocket;
	socket.accept();
	const welcome = new Promise<WelcomeEvent>((resolve) =>
		socket.addEventListener("message", (event) => resolve(JSON.parse(String(event.data)))),
	);
	socket.send(JSON.stringify({ type: "hello" }));
	const event = await welcome;
	socket.close(1000);
	return event;
}

describe("the token as a subprotocol", () => {
	it("admits, and the 101 selects exactly edgechat.v1, never the token", async () => {
		const room = freshRoom();
		const token = await tokenFor(room, { sub: "u-sub", name: "Sub", role: "moderator" });
		const response = await upgrade(room, offer(token));
		expect(response.status).toBe(101);
		expect(response.headers.get("Sec-WebSocket-Protocol")).toBe("edgechat.v1");
		for (const [, value] of response.headers) expect(value).not.toContain(token);
		expect(await welcomeOf(response)).toMatchObject({
			type: "welcome",
			name: "Sub",
			userId: "u-sub",
			role: "moderator",
		});
	});

	it("admits whatever the order and spacing of the offer", async () => {
		const room = freshRoom();
		const token = await tokenFor(room);
		const response = await upgrade(room, `edgechat.token.${token},edgechat.v1`);
		expect(response.status).toBe(101);
		expect(response.headers.get("Sec-WebSocket-Protocol")).toBe("edgechat.v1");
		response.webSocket?.accept();
	});

	it("with no edgechat.v1 offered, admits a plain connection and selects nothing (a browser would then fail it)", async () => {
		const room = freshRoom();
		const response = await upgrade(room, `edgechat.token.${await tokenFor(room)}`);
		expect(response.status).toBe(101);
		expect(response.headers.get("Sec-WebSocket-Protocol")).toBeNull();
		response.webSocket?.accept();
	});

	it("refuses a bad token there exactly as in the query", async () => {
		const room = freshRoom();
		const cases = [
			await tokenFor(room, {}, "another-secret-of-at-least-32-bytes-xxxxxx"),
			unsignedToken(room),
			"not.a.jwt",
			await tokenFor(room, { expiresIn: -31 }),
			await tokenFor(room, { expiresIn: 2 * 86_400 }),
			await tokenFor(room, { role: "admin" }),
			await tokenFor(room, { room: "elsewhere" }),
		];
		const reasons: [number, string][] = [];
		for (const token of cases) {
			const inQuery = await refusal(await upgrade(room, "edgechat.v1", {}, `?token=${encodeURIComponent(token)}`));
			const offered = await refusal(await upgrade(room, offer(token)));
			expect(offered).toEqual(inQuery);
			reasons.push(offered);
		}
		expect(reasons).toEqual([
			[401, "bad signature"],
			[401, "only HS256 tokens are accepted"],
			[401, "malformed token"],
			[401, "token expired"],
			[401, "token lives too long: exp is more than 86400 s away"],
			[401, "bad claims: role must be one of member, moderator, readonly, or absent (member)"],
			[403, "token is not for this room"],
		]);
	});

	it("refuses an empty token entry, and two tokens offered at once", async () => {
		const room = freshRoom();
		expect(await refusal(await upgrade(room, "edgechat.v1, edgechat.token."))).toEqual([401, "malformed token"]);
		const two = `${offer(await tokenFor(room))}, edgechat.token.${await tokenFor(room, { sub: "u-other" })}`;
		expect(await refusal(await upgrade(room, two))).toEqual([401, "malformed token: 2 tokens offered, send one"]);
	});

	it("comes first: a bad Bearer or query token beside it is not looked at", async () => {
		const room = freshRoom();
		const token = await tokenFor(room, { sub: "u-first" });
		const response = await upgrade(room, offer(token), { Authorization: "Bearer not.a.jwt" }, "?token=not.a.jwt");
		expect(response.status).toBe(101);
		expect((await welcomeOf(response)).userId).toBe("u-first");
		// Without it, Bearer comes before the query.
		const bearer = await upgrade(room, "edgechat.v1", { Authorization: `Bearer ${token}` }, "?token=not.a.jwt");
		expect(bearer.status).toBe(101);
		bearer.webSocket?.accept();
	});

	it("is enough for a page asking why (a GET without the upgrade), as is Bearer", async () => {
		const room = freshRoom();
		const elsewhere = await tokenFor(room, { room: "elsewhere" });
		const ask = (headers: Record<string, string>) =>
			exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket`, { headers });
		expect(await refusal(await ask({ Authorization: `Bearer ${elsewhere}` }))).toEqual([
			403,
			"token is not for this room",
		]);
		expect((await ask({ Authorization: `Bearer ${await tokenFor(room)}` })).status).toBe(426);
	});
});

describe("what the Worker hands on to the room's objects", () => {
	it("has no token: the token's offer and Authorization go, edgechat.v1 and the rest stay", () => {
		const headers = new Headers({
			"Sec-WebSocket-Protocol": "chat, edgechat.v1, edgechat.token.aaa.bbb.ccc",
			Authorization: "Bearer aaa.bbb.ccc",
			Origin: "http://chat.test",
		});
		withoutToken(headers);
		expect([...headers]).toEqual([
			["origin", "http://chat.test"],
			["sec-websocket-protocol", "chat, edgechat.v1"],
		]);
	});

	it("drops the header when the token was all it offered, and leaves an offer without a token as it was", () => {
		const tokenOnly = new Headers({ "Sec-WebSocket-Protocol": "edgechat.token.aaa.bbb.ccc" });
		withoutToken(tokenOnly);
		expect(tokenOnly.has("Sec-WebSocket-Protocol")).toBe(false);
		const plain = new Headers({ "Sec-WebSocket-Protocol": "edgechat.v1,other" });
		withoutToken(plain);
		expect(plain.get("Sec-WebSocket-Protocol")).toBe("edgechat.v1,other");
	});
});
