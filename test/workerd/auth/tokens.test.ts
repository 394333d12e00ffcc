/**
 * Signed mode at the door: every upgrade needs a token the Worker verifies before the upgrade
 * (PROTOCOL.md, "The token"); every refusal is a status and a one-line reason.
 */
import { env, exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULTS, readConfig } from "../../../src/deployment/config.ts";
import { identityHeader } from "../../../src/wire/identity.ts";
import { freshRoom } from "../rooms.ts";
import { SECRET, signedIn, tokenFor, unsignedToken } from "./tokens.ts";

/** An upgrade to `room` with `token` in the query (or none), and whatever `headers` add. */
function upgrade(room: string, token?: string, headers: Record<string, string> = {}) {
	const query = token === undefined ? "" : `?token=${encodeURIComponent(token)}`;
	return exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket${query}`, {
		headers: { Upgrade: "websocket", ...headers },
	});
}

const MISSING =
	"missing token: offer the subprotocol edgechat.token.<token>, or pass Authorization: Bearer … or ?token=…";

/** The status and reason of a refused upgrade. */
async function refusal(response: Response): Promise<[number, string]> {
	expect(response.webSocket).toBeNull();
	return [response.status, (await response.text()).trim()];
}

describe("the token", () => {
	it("is required: an upgrade without one gets 401", async () => {
		expect(await refusal(await upgrade(freshRoom()))).toEqual([401, MISSING]);
	});

	it("admits a valid token in the query, or as a Bearer header", async () => {
		const room = freshRoom();
		const byQuery = await upgrade(room, await tokenFor(room));
		expect(byQuery.status).toBe(101);
		byQuery.webSocket?.accept();
		const byHeader = await upgrade(room, undefined, { Authorization: `Bearer ${await tokenFor(room)}` });
		expect(byHeader.status).toBe(101);
		byHeader.webSocket?.accept();
	});

	it("carries a name in any script from the Worker to the room exactly (the identity is percent-encoded on its way)", async () => {
		const room = freshRoom();
		for (const name of ["Zoë Ørsted", "山田 太郎", "شيماء", "👩🏽‍💻 dev"]) {
			// A header value is bytes: only printable ASCII travels (the runtime warns of anything else).
			expect(identityHeader({ userId: "u-1", name, role: "member" })).toMatch(/^[\x20-\x7e]+$/);
			const client = await signedIn(room, `u-${name.length}-${name.codePointAt(0)}`, "member", { name });
			expect(client.welcome.name).toBe(name);
			await client.close();
		}
	});

	it("refuses a token signed with another secret", async () => {
		const room = freshRoom();
		const forged = await tokenFor(room, {}, "another-secret-of-at-least-32-bytes-xxxxxx");
		expect(await refusal(await upgrade(room, forged))).toEqual([401, "bad signature"]);
	});

	it("refuses alg none, and any algorithm but HS256", async () => {
		const room = freshRoom();
		expect(await refusal(await upgrade(room, unsignedToken(room)))).toEqual([401, "only HS256 tokens are accepted"]);
		const hs512 = await new SignJWT({ name: "ann", room, role: "member" })
			.setProtectedHeader({ alg: "HS512" })
			.setSubject("u-ann")
			.setExpirationTime("1h")
			.sign(new TextEncoder().encode(SECRET));
		expect(await refusal(await upgrade(room, hs512))).toEqual([401, "only HS256 tokens are accepted"]);
	});

	it("refuses what is not a JWT", async () => {
		expect(await refusal(await upgrade(freshRoom(), "not.a.jwt"))).toEqual([401, "malformed token"]);
	});

	it("refuses a token just expired (past the 30 s tolerance), and admits one expired within it", async () => {
		const room = freshRoom();
		expect(await refusal(await upgrade(room, await tokenFor(room, { expiresIn: -31 })))).toEqual([
			401,
			"token expired",
		]);
		const within = await upgrade(room, await tokenFor(room, { expiresIn: -20 }));
		expect(within.status).toBe(101);
		within.webSocket?.accept();
	});

	it("refuses a token meant to live longer than TOKEN_MAX_LIFETIME_SECONDS (86,400 as shipped), beyond the clock tolerance", async () => {
		const room = freshRoom();
		expect(await refusal(await upgrade(room, await tokenFor(room, { expiresIn: 86_400 + 31 })))).toEqual([
			401,
			"token lives too long: exp is more than 86400 s away",
		]);
		// A week, as a careless backend might mint: the same answer, wherever the token is carried.
		const week = await tokenFor(room, { expiresIn: 7 * 86_400 });
		expect(await refusal(await upgrade(room, undefined, { Authorization: `Bearer ${week}` }))).toEqual([
			401,
			"token lives too long: exp is more than 86400 s away",
		]);
		// The longest allowed, and within the 30 s tolerance past it (a backend's clock ahead of ours).
		for (const expiresIn of [86_400, 86_400 + 20]) {
			const admitted = await upgrade(room, await tokenFor(room, { expiresIn }));
			expect(admitted.status).toBe(101);
			admitted.webSocket?.accept();
		}
	});

	it("ignores an aud claim while TOKEN_AUDIENCE is not set", async () => {
		const room = freshRoom();
		const response = await upgrade(room, await tokenFor(room, { aud: "https://elsewhere.example" }));
		expect(response.status).toBe(101);
		response.webSocket?.accept();
	});

	it("refuses a token not yet valid", async () => {
		const room = freshRoom();
		expect(await refusal(await upgrade(room, await tokenFor(room, { notBefore: 60 })))).toEqual([
			401,
			"token not yet valid",
		]);
	});

	it("refuses a token with claims that are not as documented", async () => {
		const room = freshRoom();
		const [status, reason] = await refusal(await upgrade(room, await tokenFor(room, { role: "admin" })));
		expect([status, reason]).toEqual([
			401,
			"bad claims: role must be one of member, moderator, readonly, or absent (member)",
		]);
		const badName = await refusal(await upgrade(room, await tokenFor(room, { name: "a\u202Eb" })));
		expect(badName[0]).toBe(401);
		expect(badName[1]).toMatch(/^bad claims: name: /);
	});

	it("admits a token without a role as a member's (sub, name, room and exp only)", async () => {
		const room = freshRoom();
		const token = await new SignJWT({ name: "newcomer", room })
			.setProtectedHeader({ alg: "HS256" })
			.setSubject("u-new")
			.setExpirationTime("10m")
			.sign(new TextEncoder().encode(SECRET));
		const response = await upgrade(room, token, { "Sec-WebSocket-Protocol": "edgechat.v1" });
		expect(response.status).toBe(101);
		const socket = response.webSocket as WebSocket;
		socket.accept();
		const welcome = new Promise<{ role: string; userId: string }>((resolve) =>
			socket.addEventListener("message", (event) => resolve(JSON.parse(String(event.data)))),
		);
		socket.send(JSON.stringify({ type: "hello" }));
		expect(await welcome).toMatchObject({ type: "welcome", userId: "u-new", role: "member" });
		socket.close();
	});

	it("refuses a token for another room with 403, and admits a token for every room", async () => {
		const room = freshRoom();
		expect(await refusal(await upgrade(room, await tokenFor(room, { room: "elsewhere" })))).toEqual([
			403,
			"token is not for this room",
		]);
		const anyRoom = await upgrade(room, await tokenFor(room, { room: "*" }));
		expect(anyRoom.status).toBe(101);
		anyRoom.webSocket?.accept();
	});

	it("cannot be smuggled past the Worker: an identity header from the client is dropped", async () => {
		const room = freshRoom();
		const identity = JSON.stringify({ userId: "u-root", name: "root", role: "moderator" });
		expect((await upgrade(room, undefined, { "Edgechat-Identity": identity })).status).toBe(401);
	});

	it("answers a GET without the upgrade with the same refusal, so a page can learn why its socket failed", async () => {
		const room = freshRoom();
		const get = (token?: string) =>
			exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket${token ? `?token=${token}` : ""}`);
		expect(await refusal(await get())).toEqual([401, MISSING]);
		expect(await refusal(await get(await tokenFor(room, { room: "elsewhere" })))).toEqual([
			403,
			"token is not for this room",
		]);
		// Nothing to refuse: the usual answer to a GET that is not an upgrade.
		expect((await get(await tokenFor(room))).status).toBe(426);
	});

	it("guards the room's size: a moderator's token is needed", async () => {
		const room = freshRoom();
		const stats = (token?: string) =>
			exports.default.fetch(
				`http://chat.test/api/rooms/${room}`,
				token ? { headers: { Authorization: `Bearer ${token}` } } : {},
			);
		expect((await stats()).status).toBe(401);
		// The HTTP API answers refusals as problem details (docs/api.md), this route too.
		const member = await stats(await tokenFor(room));
		expect(member.status).toBe(403);
		expect(member.headers.get("Content-Type")).toBe("application/problem+json");
		expect(await member.json()).toMatchObject({ status: 403, detail: "a room's size needs a moderator token" });
		const allowed = await stats(await tokenFor(room, { role: "moderator" }));
		expect(allowed.status).toBe(200);
		expect(await allowed.json()).toMatchObject({ connections: 0, members: 0 });
	});
});

describe("the token's settings", () => {
	it("reads TOKEN_MAX_LIFETIME_SECONDS (0, no limit, to a year) and TOKEN_AUDIENCE (empty: none), and refuses what is unusable", () => {
		expect(readConfig({})).toMatchObject({ tokenMaxLifetimeSeconds: 86_400, tokenAudience: null });
		// wrangler.toml ships the defaults (this project runs with its [vars]).
		expect(readConfig(env)).toMatchObject({
			tokenMaxLifetimeSeconds: DEFAULTS.tokenMaxLifetimeSeconds,
			tokenAudience: DEFAULTS.tokenAudience,
		});
		expect(readConfig({ TOKEN_MAX_LIFETIME_SECONDS: "0", TOKEN_AUDIENCE: " https://chat.example " })).toMatchObject({
			tokenMaxLifetimeSeconds: 0,
			tokenAudience: "https://chat.example",
		});
		expect(readConfig({ TOKEN_AUDIENCE: "  " }).tokenAudience).toBeNull();
		for (const bad of ["31536001", "-1", "1h"]) {
			expect(() => readConfig({ TOKEN_MAX_LIFETIME_SECONDS: bad })).toThrow(ConfigError);
			expect(() => readConfig({ TOKEN_MAX_LIFETIME_SECONDS: bad })).toThrow(
				`TOKEN_MAX_LIFETIME_SECONDS must be an integer from 0 to 31536000, got ${JSON.stringify(bad)}`,
			);
		}
	});
});
