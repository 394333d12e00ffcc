/**
 * Mentions: which members a message calls by name (`@ada`, `@Ada Lovelace,`), resolved by the
 * room when the message is staged, against the names present then, so every client agrees on
 * who was mentioned (and a name that merely looks like one mentions nobody). A mention is `@` at
 * the start of the text or after a space or punctuation, followed by a present member's name
 * (compared without regard to case), followed by the end of the text, a space or punctuation;
 * the longest such name wins (`@Ada Lovelace` over `@Ada`). At most `MAX_MENTIONS` names per
 * message, each once, in the order written.
 */
import { MAX_MENTIONS, MAX_NAME_LENGTH } from "../wire/limits.ts";

/** What may come right before `@` and right after a name: nothing, a space, or punctuation. */
const BOUNDARY = /[\s\p{P}\p{S}]/u;

/**
 * The present names `text` mentions. `present(candidate)` answers the present member's name a
 * candidate matches (case aside), or `undefined`.
 */
export function mentionsIn(text: string, present: (candidate: string) => string | undefined): string[] {
	const found: string[] = [];
	const characters = [...text];
	for (let at = 0; at < characters.length && found.length < MAX_MENTIONS; at++) {
		if (characters[at] !== "@") continue;
		if (at > 0 && !BOUNDARY.test(characters[at - 1] as string)) continue;
		const rest = characters.slice(at + 1, at + 1 + MAX_NAME_LENGTH);
		for (let length = rest.length; length > 0; length--) {
			const after = characters[at + 1 + length];
			if (after !== undefined && !BOUNDARY.test(after)) continue;
			const name = present(rest.slice(0, length).join(""));
			if (name === undefined) continue;
			if (!found.includes(name)) found.push(name);
			at += length;
			break;
		}
	}
	return found;
}

/** The key a name is looked up by when resolving mentions: case folded, NFC. */
export function mentionKey(name: string): string {
	return name.normalize("NFC").toLowerCase();
}
