/**
 * Property-based tests of the rich protocol's parser, run inside workerd (its JSON.parse, its
 * Unicode tables): whatever arrives, the parser never throws and answers either a well-formed
 * event or one of the documented errors.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_NAME_LENGTH } from "../../src/wire/limits.ts";
import { codePointLength, type ParseResult, parseClientEvent } from "../../src/wire/parse.ts";
import type { ErrorCode } from "../../src/wire/protocol.ts";

const LIMITS = { messageCap: 50 };
/** The bidi controls a text may not carry (PROTOCOL.md, "Texts"). */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/u;
const DOCUMENTED: readonly ErrorCode[] = [
	"bad_json",
	"bad_event",
	"unknown_type",
	"bad_name",
	"bad_text",
	"text_too_long",
	"binary_unsupported",
	"not_joined",
	"already_joined",
];

/** What every answer must look like, valid or not. */
function expectWellFormed(result: ParseResult): void {
	if (result.ok) {
		const event = result.event;
		expect(["hello", "send", "typing"]).toContain(event.type);
		if (event.type === "hello") {
			expect(event.name).toBe(event.name.trim());
			expect(codePointLength(event.name)).toBeGreaterThan(0);
			expect(codePointLength(event.name)).toBeLessThanOrEqual(MAX_NAME_LENGTH);
			expect(event.name.isWellFormed()).toBe(true);
			// Something of it shows: not only white space, marks, fillers and blanks.
			expect(event.name.replace(/[\s\p{M}\p{Default_Ignorable_Code_Point}\u2800\u{1D159}]/gu, "")).not.toBe("");
		}
		if (event.type === "send") {
			expect(codePointLength(event.text)).toBeLessThanOrEqual(LIMITS.messageCap);
			expect(event.text.isWellFormed()).toBe(true);
			expect(event.text).not.toMatch(BIDI_CONTROL);
			expect(event.clientId).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
		}
	} else {
		expect(result.error.type).toBe("error");
		expect(DOCUMENTED).toContain(result.error.code);
		expect(typeof result.error.message).toBe("string");
		expect(result.error.message.length).toBeLessThan(200);
	}
}

/** Values of the shapes a client might send, right or wrong. */
const anyValue = fc.oneof(
	fc.string({ unit: "grapheme", maxLength: 80 }),
	fc.string({ unit: "binary", maxLength: 80 }),
	fc.integer(),
	fc.double(),
	fc.boolean(),
	fc.constant(null),
	fc.constant(Number.MAX_SAFE_INTEGER + 2),
	fc.array(fc.integer(), { maxLength: 3 }),
	fc.object({ maxDepth: 2 }),
);
const eventLike = fc.record(
	{
		type: fc.oneof(fc.constantFrom("hello", "send", "typing", "ping", "batch", ""), anyValue),
		name: anyValue,
		since: anyValue,
		clientId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,70}$/), anyValue),
		text: anyValue,
	},
	{ requiredKeys: [] },
);

describe("parseClientEvent (properties)", () => {
	it("never throws on arbitrary strings and answers something documented", () => {
		fc.assert(
			fc.property(fc.string({ unit: "binary", maxLength: 300 }), (frame) => {
				expectWellFormed(parseClientEvent(frame, LIMITS));
			}),
			{ numRuns: 2_000 },
		);
	});

	it("never throws on arbitrary JSON values", () => {
		fc.assert(
			fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
				expectWellFormed(parseClientEvent(JSON.stringify(value), LIMITS));
			}),
			{ numRuns: 1_000 },
		);
	});

	it("never throws on event-shaped objects with wrong and weird field types", () => {
		fc.assert(
			fc.property(eventLike, (value) => {
				expectWellFormed(parseClientEvent(JSON.stringify(value), LIMITS));
			}),
			{ numRuns: 3_000 },
		);
	});

	it("accepts every valid send and keeps its text, or refuses it only for length or a bidi control", () => {
		fc.assert(
			fc.property(
				fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
				fc.string({ unit: "grapheme", minLength: 1, maxLength: 80 }).filter((t) => t.trim().length > 0),
				(clientId, text) => {
					const result = parseClientEvent(JSON.stringify({ type: "send", clientId, text }), LIMITS);
					if (codePointLength(text) > LIMITS.messageCap) {
						expect(result).toMatchObject({ ok: false, error: { code: "text_too_long", clientId } });
					} else if (BIDI_CONTROL.test(text)) {
						expect(result).toMatchObject({ ok: false, error: { code: "bad_text", clientId } });
					} else {
						expect(result).toEqual({ ok: true, event: { type: "send", clientId, text } });
					}
				},
			),
			{ numRuns: 1_000 },
		);
	});

	it("refuses every send and edit whose text carries a bidi embedding, override or isolate, wherever it sits", () => {
		fc.assert(
			fc.property(
				fc.string({ maxLength: 20 }),
				fc.constantFrom(..."\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069"),
				fc.string({ maxLength: 20 }),
				(before, control, after) => {
					const text = `${before}${control}${after}`;
					expect(parseClientEvent(JSON.stringify({ type: "send", clientId: "c", text }), LIMITS)).toMatchObject({
						ok: false,
						error: { code: "bad_text", clientId: "c" },
					});
					expect(parseClientEvent(JSON.stringify({ type: "edit", id: 1, text }), LIMITS)).toMatchObject({
						ok: false,
						error: { code: "bad_text" },
					});
				},
			),
			{ numRuns: 500 },
		);
	});

	it("refuses every name that carries a control or bidi character, wherever it sits", () => {
		const bad = fc.constantFrom(
			"\u0000",
			"\u0007",
			"\u001b",
			"\u007f",
			"\u0085",
			"\u202e",
			"\u2066",
			"\u200b",
			"\u2028",
			"\ufeff",
		);
		fc.assert(
			fc.property(fc.string({ maxLength: 10 }), bad, fc.string({ maxLength: 10 }), (before, c, after) => {
				const result = parseClientEvent(JSON.stringify({ type: "hello", name: `a${before}${c}${after}z` }), LIMITS);
				expect(result).toMatchObject({ ok: false, error: { code: "bad_name" } });
			}),
			{ numRuns: 500 },
		);
	});

	it("handles huge and deeply nested input without throwing", () => {
		const huge = JSON.stringify({ type: "send", clientId: "a", text: "x".repeat(1 << 20) });
		expect(parseClientEvent(huge, LIMITS)).toMatchObject({ ok: false, error: { code: "text_too_long" } });
		const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
		expectWellFormed(parseClientEvent(deep, LIMITS));
		const deepObject = `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`;
		expectWellFormed(parseClientEvent(deepObject, LIMITS));
		const hugeNumber = '{"type":"hello","name":"x","since":1e400}';
		expect(parseClientEvent(hugeNumber, LIMITS)).toMatchObject({ ok: false, error: { code: "bad_event" } });
	});
});
