/**
 * Cutting chat text to the message cap. The cap counts Unicode code points, so an emoji is one
 * character and a surrogate pair is never split (a lone half would be invalid UTF-16 that
 * browsers render as U+FFFD).
 */

/**
 * Returns `text` cut to at most `cap` code points. Runs on every message, so the common case
 * (text already short enough) costs one length comparison and allocates nothing.
 */
export function capText(text: string, cap: number): string {
	// UTF-16 length is an upper bound on the code-point count.
	if (text.length <= cap) return text;
	let index = 0;
	for (let points = 0; points < cap && index < text.length; points++) {
		const unit = text.charCodeAt(index);
		const isPairStart = unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length;
		const next = isPairStart ? text.charCodeAt(index + 1) : 0;
		index += isPairStart && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
	}
	return index >= text.length ? text : text.slice(0, index);
}

const encoder = new TextEncoder();

/**
 * Whether `text` takes more than `maxBytes` bytes in UTF-8 (its size on the wire). Every UTF-16
 * unit is 1 to 3 UTF-8 bytes, so most frames are decided by their length alone.
 */
export function exceedsUtf8Bytes(text: string, maxBytes: number): boolean {
	if (text.length > maxBytes) return true;
	if (text.length * 3 <= maxBytes) return false;
	return encoder.encode(text).byteLength > maxBytes;
}

/**
 * How many bytes `text` takes in UTF-8 (a lone surrogate as the three of U+FFFD, as it is sent),
 * counted without encoding it: what a client downloads, for the byte budgets of src/wire/limits.ts.
 */
export function utf8Length(text: string): number {
	let bytes = text.length;
	for (let i = 0; i < text.length; i++) {
		const unit = text.charCodeAt(i);
		if (unit < 0x80) continue;
		if (unit < 0x800) bytes += 1;
		else if (unit >= 0xd800 && unit <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
			// A surrogate pair: two units, four bytes.
			bytes += 2;
			i++;
		} else bytes += 2;
	}
	return bytes;
}
