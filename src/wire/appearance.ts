/**
 * How a display name looks, for the rules of src/wire/parse.ts `checkName`: which characters show
 * nothing, how combining marks stack, and what a name reads as (compatibility forms, invisible
 * characters, case and look-alike letters aside), to tell a name that passes for another.
 */

/**
 * What shows nothing where it stands: white space (what `trim` removes), combining marks (they
 * draw on the character before them, not on their own), default-ignorable code points (joiners,
 * variation selectors, tags, the Hangul fillers U+115F, U+1160, U+3164 and U+FFA0, ...: Unicode
 * says to draw them as nothing when they are not understood), and two symbols whose glyph is
 * blank: U+2800 BRAILLE PATTERN BLANK and U+1D159 MUSICAL SYMBOL NULL NOTEHEAD.
 */
const NOT_SHOWN = /[\s\p{M}\p{Default_Ignorable_Code_Point}\u2800\u{1D159}]/gu;
/** A combining mark (nonspacing, spacing or enclosing). */
const MARK = /^\p{M}$/u;

/** Whether nothing of `text` shows: every character of it is one of `NOT_SHOWN`. */
export function showsNothing(text: string): boolean {
	return text.replace(NOT_SHOWN, "").length === 0;
}

/** The most combining marks on one character of `name`. */
export function tallestMarkStack(name: string): number {
	let tallest = 0;
	let run = 0;
	for (const character of name) {
		run = MARK.test(character) ? run + 1 : 0;
		tallest = Math.max(tallest, run);
	}
	return tallest;
}

/**
 * Look-alikes of the letters of the operator's name `API` (src/wire/operator.ts) that NFKD leaves
 * as they are, from Unicode's confusables list (UTS #39, confusables.txt): every character it
 * gives as the prototype A or a, P or p, and I, i or l (I and l look the same in most fonts; so do
 * 1 and |), each read here as the lower-case letter. NFKD has already turned fullwidth,
 * mathematical and Roman-numeral forms into the letters themselves.
 */
const LOOK_ALIKES = new Map<string, string>(
	(
		[
			// Greek Alpha, Cyrillic A, Cherokee GO, Canadian GHO, Lisu A, Miao ZZYA, Carian A, APL alpha, Latin alpha.
			["a", "\u0391\u03B1\u0410\u0430\u13AA\u15C5\uA4EE\u{16F40}\u{102A0}\u237A\u0251"],
			// Greek Rho, Coptic Ro, Cyrillic Er, Cherokee TLV, Canadian KI, Lisu PA, Lycian R, APL rho.
			["p", "\u03A1\u03C1\u2CA2\u2CA3\u0420\u0440\u13E2\u146D\uA4D1\u{10295}\u2374"],
			// l, 1, |; dotless and small-capital i, Latin and Greek iota, Cyrillic I, iota and palochka,
			// Cherokee V, Coptic Iauda, Lisu I, runic I, Tifinagh YAN, Latin dental click, APL iota.
			["i", "l1|\u0131\u026A\u0269\u0196\u03B9\u0399\u0456\u0406\uA647\u04CF\u04C0\uAB75\u13A5\u2C92"],
			["i", "\uA4F2\u16C1\u2D4F\u01C0\u2373"],
			// Hebrew paseq, vav and final nun; Arabic alef and the Arabic digits one; N'Ko A.
			["i", "\u05C0\u05D5\u05DF\u0627\u0661\u06F1\u07CA"],
			// Strokes: divides, power-on symbol, box-drawing vertical (NFKD of the halfwidth one),
			// Old Italic I and numeral one, Mende digit one, Miao GHA, Lycian J, Warang Citi YU.
			["i", "\u2223\u23FD\u2502\u{10309}\u{10320}\u{1E8C7}\u{16F28}\u{1028A}\u{118C3}"],
		] as const
	).flatMap(([letter, alikes]) => [...alikes].map((alike): [string, string] => [alike, letter])),
);

/**
 * How a name reads, for telling whether it passes for another: compatibility forms unfolded
 * (NFKD: ＡＰＩ, 𝐀𝐏𝐈), what shows nothing dropped (`NOT_SHOWN`: marks too, so an accent or a
 * mark that draws nothing makes no other name, and white space, as a hair space between two
 * letters is all but invisible), lower case, and the look-alikes above as their letter.
 */
export function readsAs(name: string): string {
	let read = "";
	for (const character of name.normalize("NFKD").replace(NOT_SHOWN, "")) {
		const lower = character.toLowerCase();
		read += LOOK_ALIKES.get(character) ?? LOOK_ALIKES.get(lower) ?? lower;
	}
	return read;
}
