/**
 * The edges PROTOCOL.md settles on purpose, each pinned here: what white space is (for texts and
 * names alike, and the fillers and blanks that are not), a BOM at either end of a name,
 * `since: null`, `since` at and past 2^53 − 1, a name that is not a string, and the `clientId` on
 * a `not_joined` refusal.
 */
import { describe, expect, it } from "vitest";
import { parseClientEvent } from "../../src/wire/parse.ts";
import { freshRoom } from "./rooms.ts";
import { connectRich, connectRichRaw } from "./sockets.ts";

const LIMITS = { messageCap: 50 };
const parse = (event: unknown) => parseClientEvent(JSON.stringify(event), LIMITS);
const send = (text: unknown) => parse({ type: "send", clientId: "c", text });
const hello = (fields: Record<string, unknown>) => parse({ type: "hello", ...fields });

/** Every character JavaScript's `trim` removes: PROTOCOL.md's white space. */
const WHITE_SPACE = [
	..."\t\n\v\f\r \u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A",
	..."\u2028\u2029\u202F\u205F\u3000\uFEFF",
];

describe("white space (texts and names alike)", () => {
	it.each(WHITE_SPACE.map((c) => [`U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, "0")}`, c]))(
		"%s alone, or three of it, is a blank text (bad_text) and trimmed off a name",
		(_, c) => {
			expect(send(c)).toMatchObject({ ok: false, error: { code: "bad_text", clientId: "c" } });
			expect(send(c.repeat(3))).toMatchObject({ ok: false, error: { code: "bad_text" } });
			expect(hello({ name: `${c}ann${c}` })).toEqual({ ok: true, event: { type: "hello", name: "ann" } });
		},
	);

	it("is exactly the set JavaScript's trim removes (the page's own test)", () => {
		for (let code = 0; code <= 0xffff; code++) {
			const c = String.fromCharCode(code);
			if (c.trim() === "") expect(WHITE_SPACE).toContain(c);
		}
	});

	it("does not include U+0085 (NEL, a control character) or U+200B (zero-width space): such texts are stored", () => {
		expect(send("\u0085")).toEqual({ ok: true, event: { type: "send", clientId: "c", text: "\u0085" } });
		expect(send("\u200B")).toEqual({ ok: true, event: { type: "send", clientId: "c", text: "\u200B" } });
		// In a name they are not trimmed; they are refused as control and format characters.
		expect(hello({ name: "\u0085ann" })).toMatchObject({ ok: false, error: { code: "bad_name" } });
		expect(hello({ name: "ann\u200B" })).toMatchObject({ ok: false, error: { code: "bad_name" } });
	});

	it("does not include the Hangul fillers or the Braille blank: such texts are stored, and a name of only them shows nothing", () => {
		for (const c of ["\u3164", "\uFFA0", "\u115F", "\u1160", "\u2800"]) {
			expect(send(c)).toEqual({ ok: true, event: { type: "send", clientId: "c", text: c } });
			// Not trimmed off a name either: beside letters it stays, alone it is refused.
			expect(hello({ name: `ann${c}` })).toEqual({ ok: true, event: { type: "hello", name: `ann${c}` } });
			expect(hello({ name: ` ${c} ` })).toMatchObject({ ok: false, error: { code: "bad_name" } });
		}
	});
});

describe("a BOM in a name", () => {
	it("is trimmed at either end, as white space, and the name accepted", () => {
		expect(hello({ name: "\uFEFFann" })).toEqual({ ok: true, event: { type: "hello", name: "ann" } });
		expect(hello({ name: "ann\uFEFF" })).toEqual({ ok: true, event: { type: "hello", name: "ann" } });
		expect(hello({ name: "\uFEFF ann \uFEFF" })).toEqual({ ok: true, event: { type: "hello", name: "ann" } });
	});

	it("is refused inside the name, and a name of only BOMs is empty", () => {
		expect(hello({ name: "an\uFEFFn" })).toMatchObject({ ok: false, error: { code: "bad_name" } });
		expect(hello({ name: "\uFEFF\uFEFF" })).toMatchObject({ ok: false, error: { code: "bad_name" } });
	});
});

describe("since", () => {
	it("null is the same as absent", () => {
		expect(hello({ name: "ann", since: null })).toEqual({ ok: true, event: { type: "hello", name: "ann" } });
	});

	it.each([
		[0, 0],
		[2 ** 53 - 1, 2 ** 53 - 1],
	])("%d is accepted", (since, expected) => {
		expect(hello({ name: "ann", since })).toEqual({ ok: true, event: { type: "hello", name: "ann", since: expected } });
	});

	it("takes any JSON spelling of an integer (1e2, 2.0)", () => {
		const raw = (since: string) => parseClientEvent(`{"type":"hello","name":"ann","since":${since}}`, LIMITS);
		expect(raw("1e2")).toEqual({ ok: true, event: { type: "hello", name: "ann", since: 100 } });
		expect(raw("2.0")).toEqual({ ok: true, event: { type: "hello", name: "ann", since: 2 } });
	});

	it.each([
		["2^53", 2 ** 53],
		["2^53 + 2", 2 ** 53 + 2],
		["1e300", 1e300],
		["-1", -1],
		["1.5", 1.5],
		['"5"', "5"],
		["true", true],
		["[1]", [1]],
		["{}", {}],
	])("%s is bad_event", (_, since) => {
		expect(hello({ name: "ann", since })).toMatchObject({ ok: false, error: { code: "bad_event" } });
	});

	it("1e400 (Infinity once parsed) is bad_event", () => {
		const result = parseClientEvent('{"type":"hello","name":"ann","since":1e400}', LIMITS);
		expect(result).toMatchObject({ ok: false, error: { code: "bad_event" } });
	});
});

describe("a name that is not a string", () => {
	it.each([
		["a number", { name: 42 }],
		["null", { name: null }],
		["a boolean", { name: true }],
		["an array", { name: ["ann"] }],
		["an object", { name: { first: "ann" } }],
		["missing", {}],
	])("(%s) is bad_name, not bad_event, and is checked before since", (_, fields) => {
		expect(hello(fields)).toMatchObject({ ok: false, error: { code: "bad_name" } });
		expect(hello({ ...fields, since: -1 })).toMatchObject({ ok: false, error: { code: "bad_name" } });
	});
});

describe("the edges in a real room", () => {
	it("welcomes since: null like no since, refuses since 2^53, and lets the client try again", async () => {
		const room = freshRoom("edges");
		const alice = await connectRich(room, "alice");
		await alice.say("one");
		const { raw, nextEvent } = await connectRichRaw(room);
		raw.socket.send(JSON.stringify({ type: "hello", name: "bob", since: 2 ** 53 }));
		expect(await nextEvent()).toMatchObject({ type: "error", code: "bad_event" });
		raw.socket.send(JSON.stringify({ type: "hello", name: "\uFEFFbob", since: null }));
		expect(await nextEvent()).toMatchObject({ type: "welcome", name: "bob", gap: false, latestId: 1 });
	});

	it("answers a send before hello with not_joined carrying its clientId, and a typing with none", async () => {
		const { raw, nextEvent } = await connectRichRaw(freshRoom("edges"));
		raw.socket.send(JSON.stringify({ type: "send", clientId: "early-1", text: "too early" }));
		expect(await nextEvent()).toMatchObject({ type: "error", code: "not_joined", clientId: "early-1" });
		raw.socket.send(JSON.stringify({ type: "typing" }));
		const typing = await nextEvent();
		expect(typing).toMatchObject({ type: "error", code: "not_joined" });
		expect(typing).not.toHaveProperty("clientId");
	});
});
