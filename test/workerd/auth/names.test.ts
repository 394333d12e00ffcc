/**
 * Names and texts in signed mode: a token's `name` follows a hello name's rules, the operator's
 * name `API` (and what reads as it) included, so a site cannot hand a user a name that passes for
 * the HTTP API's own actions; an edit's text follows a send's, bidi controls refused
 * (PROTOCOL.md, "Names", "Texts", "The token").
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { freshRoom } from "../rooms.ts";
import { signedIn, tokenFor } from "./tokens.ts";

/** An upgrade to `room` with `token` in the query. */
function upgrade(room: string, token: string) {
	return exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket?token=${encodeURIComponent(token)}`, {
		headers: { Upgrade: "websocket" },
	});
}

describe("a token's name", () => {
	it.each([
		["API", "API"],
		["api", "api"],
		["a Greek capital Alpha for the A", "\u0391PI"],
		["fullwidth letters", "ＡＰＩ"],
		["a Hangul filler after it", "API\u3164"],
	])("refuses %s with 401: it reads as the operator's name", async (_, name) => {
		const room = freshRoom();
		const response = await upgrade(room, await tokenFor(room, { sub: "u-mallory", name }));
		expect(response.webSocket).toBeNull();
		expect([response.status, (await response.text()).trim()]).toEqual([
			401,
			"bad claims: name: name reads as API, the name the operator's own actions show under",
		]);
	});

	it("refuses a name that shows nothing with 401", async () => {
		const room = freshRoom();
		const response = await upgrade(room, await tokenFor(room, { sub: "u-blank", name: "\u3164\u2800" }));
		expect(response.status).toBe(401);
		expect(await response.text()).toMatch(/^bad claims: name: name shows nothing/);
	});

	it("admits a name that only has API in it", async () => {
		const room = freshRoom();
		const member = await signedIn(room, "u-bot", "member", { name: "API bot" });
		expect(member.welcome.name).toBe("API bot");
		await member.close();
	});
});

describe("an edit's text", () => {
	it("is refused with bad_text when it carries a bidi override, and the message stays as it was", async () => {
		const room = freshRoom();
		const ann = await signedIn(room, "u-ann");
		const first = await ann.say("see the invoice");
		ann.send({ type: "edit", id: first.id, text: "see invoice\u202Efdp.exe" });
		expect(await ann.nextOf("error")).toMatchObject({ code: "bad_text" });
		ann.send({ type: "edit", id: first.id, text: "see the invoice, attached" });
		expect(await ann.nextOf("edit")).toMatchObject({ target: first.id, text: "see the invoice, attached" });
	});
});
