/**
 * The room-wide typing limit. A hub passes on a connection's typing at most once per
 * `TYPING_INTERVAL_MS`, but each notice goes to every member, so in a room of 100,000 typing must
 * also be thinned room-wide: at most `TYPING_NAMES_PER_INTERVAL` names per interval, each once
 * (PROTOCOL.md, "Server → client", the `typing` event).
 */
import { TYPING_INTERVAL_MS } from "../../public/contract.js";

/** The most names whose typing the room passes on per `TYPING_INTERVAL_MS`. */
export const TYPING_NAMES_PER_INTERVAL = 5;

/** Which typing notices the room passes on. */
export class TypingLimit {
	/** Names whose typing was passed on in the current interval, and when it began. */
	#typists = new Set<string>();
	#since = 0;

	/** Whether `name`'s typing goes on at `now`: not twice in an interval, nor past the limit's names. */
	passes(name: string, now: number): boolean {
		if (now - this.#since >= TYPING_INTERVAL_MS) {
			this.#since = now;
			this.#typists.clear();
		}
		if (this.#typists.has(name) || this.#typists.size >= TYPING_NAMES_PER_INTERVAL) return false;
		this.#typists.add(name);
		return true;
	}
}
