/**
 * Signed mode as an operator may tighten or loosen it (docs/operating.md, "Signed mode"): `TOKEN_AUDIENCE`
 * set, so a token must name this server in its `aud` (one a backend signed for another service
 * with the same secret is refused), and `TOKEN_MAX_LIFETIME_SECONDS` 0, no limit on `exp`.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tokenFor } from "../auth/tokens.ts";
import { freshRoom } from "../rooms.ts";

/** This project's `TOKEN_AUDIENCE` (vitest.config.ts). */
const AUDIENCE = "https://chat.example";

/** An upgrade to `room` offering `token` as a subprotocol, as the client library does. */
function upgrade(room: string, token: string) {
	return exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket`, {
		headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": `edgechat.v1, edgechat.token.${token}` },
	});
}

/** The status and reason of a refused upgrade. */
async function refusal(response: Response): Promise<[number, string]> {
	expect(response.webSocket).toBeNull();
	return [response.status, (await response.text()).trim()];
}

describe("TOKEN_AUDIENCE set", () => {
	it("refuses a token without aud, or with another's, with 401", async () => {
		const room = freshRoom();
		expect(await refusal(await upgrade(room, await tokenFor(room)))).toEqual([
			401,
			"bad audience: the token has no aud, and this server requires one",
		]);
		for (const aud of ["https://other.example", ["https://other.example", "api"]]) {
			expect(await refusal(await upgrade(room, await tokenFor(room, { aud })))).toEqual([
				401,
				"bad audience: the token's aud is not this server's",
			]);
		}
	});

	it("admits a token whose aud is this server, alone or among others", async () => {
		const room = freshRoom();
		for (const aud of [AUDIENCE, ["https://other.example", AUDIENCE]]) {
			const response = await upgrade(room, await tokenFor(room, { aud }));
			expect(response.status).toBe(101);
			expect(response.headers.get("Sec-WebSocket-Protocol")).toBe("edgechat.v1");
			response.webSocket?.accept();
		}
	});

	it("checks the signature first: a forged token naming the audience is still a bad signature", async () => {
		const room = freshRoom();
		const forged = await tokenFor(room, { aud: AUDIENCE }, "another-secret-of-at-least-32-bytes-xxxxxx");
		expect(await refusal(await upgrade(room, forged))).toEqual([401, "bad signature"]);
	});
});

describe("TOKEN_MAX_LIFETIME_SECONDS 0", () => {
	it("admits a token however far off its exp", async () => {
		const room = freshRoom();
		const response = await upgrade(room, await tokenFor(room, { aud: AUDIENCE, expiresIn: 10 * 365 * 86_400 }));
		expect(response.status).toBe(101);
		response.webSocket?.accept();
	});
});
