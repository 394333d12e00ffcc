// @ts-check
/**
 * The room's message allowance, kept on the client's side (PROTOCOL.md, "Flood control"): the
 * welcome says it (`allowance`), and this keeps the same token bucket the room keeps for the
 * connection, so a frame that costs a token waits here for one instead of being refused. A
 * client pressing Enter faster than the allowance is then never refused for it, and never
 * closed for flooding; a person sees how long the next message waits (`waitingFor`).
 */

/** @import { Allowance } from "../../src/wire/protocol.ts" */

/**
 * Added to each wait for a token: the room counts a frame when it arrives, and two frames sent
 * a token's time apart can arrive closer together (the first held up on the way). A little
 * later is never refused; a little earlier can be (then a client that asked for it retries
 * after the room's `retryAfterMs`, as the page and the terminal client do).
 */
const ARRIVAL_MARGIN_MS = 100;

/** Paces one connection's sends by its allowance: the bucket, and the frames waiting for it. */
export class Pacer {
	/** @type {(frame: string) => boolean} */ #send;
	/** @type {() => void} */ #changed;
	/** The room's allowance; `null`: unlimited (flood control off, or not said yet). @type {Allowance | null} */
	#allowance = null;
	#tokens = 0;
	#at = 0;
	/** Frames waiting for a token, oldest first, with the `clientId` of a send. @type {{ frame: string, clientId?: string }[]} */
	#waiting = [];
	/** @type {ReturnType<typeof setTimeout> | undefined} */ #timer;
	/** When the next waiting frame goes (ms since the epoch), while one waits. */
	#nextAt = 0;

	/**
	 * @param {(frame: string) => boolean} send sends a frame on the current connection
	 * @param {() => void} changed called when frames start or stop waiting, or the next one's time moves
	 */
	constructor(send, changed) {
		this.#send = send;
		this.#changed = changed;
	}

	/**
	 * A welcome: a fresh connection, with its full allowance (the room gives each connection a
	 * full bucket). Frames still waiting from the connection before were dropped with it.
	 * @param {Allowance | undefined} allowance
	 * @param {number} now
	 */
	welcomed(allowance, now) {
		this.#allowance = allowance ?? null;
		this.#tokens = allowance?.bucket ?? 0;
		this.#at = now;
	}

	/**
	 * Sends a frame that costs a token now if there is one, or once there is, after those
	 * waiting; returns whether it went or waits (false: not connected).
	 * @param {string} frame
	 * @param {string} [clientId] a send's, for `waitingFor`
	 * @returns {boolean}
	 */
	send(frame, clientId) {
		if (this.#waiting.length === 0 && this.#take(Date.now())) return this.#send(frame);
		this.#waiting.push(clientId === undefined ? { frame } : { frame, clientId });
		if (this.#timer === undefined) this.#schedule();
		this.#changed();
		return true;
	}

	/** The room's allowance, as the last welcome said (`null`: none). */
	get limit() {
		return this.#allowance;
	}

	/** The connection dropped: waiting frames go with it (pending sends go again after the next welcome). */
	dropped() {
		clearTimeout(this.#timer);
		this.#timer = undefined;
		const had = this.#waiting.length > 0;
		this.#waiting = [];
		if (had) this.#changed();
	}

	/**
	 * What waits for a token: how many frames, the sends among them (their `clientId`s, oldest
	 * first), and how long until the next goes (ms; 0 when none waits).
	 * @returns {{ frames: number, clientIds: string[], nextInMs: number }}
	 */
	get waitingFor() {
		const clientIds = [];
		for (const { clientId } of this.#waiting) if (clientId !== undefined) clientIds.push(clientId);
		const nextInMs = this.#waiting.length > 0 ? Math.max(0, this.#nextAt - Date.now()) : 0;
		return { frames: this.#waiting.length, clientIds, nextInMs };
	}

	/**
	 * Takes a token if the bucket has one at `now`.
	 * @param {number} now
	 */
	#take(now) {
		const allowance = this.#allowance;
		if (allowance === null) return true;
		const perMs = allowance.messages / (allowance.windowSeconds * 1000);
		this.#tokens = Math.min(allowance.bucket, this.#tokens + Math.max(0, now - this.#at) * perMs);
		this.#at = now;
		if (this.#tokens < 1) return false;
		this.#tokens -= 1;
		return true;
	}

	#schedule() {
		const allowance = this.#allowance;
		if (allowance === null) return;
		const perMs = allowance.messages / (allowance.windowSeconds * 1000);
		const wait = Math.ceil((1 - this.#tokens) / perMs) + ARRIVAL_MARGIN_MS;
		this.#nextAt = Date.now() + wait;
		this.#timer = setTimeout(() => {
			this.#timer = undefined;
			while (this.#waiting.length > 0 && this.#take(Date.now())) {
				const { frame } = /** @type {{ frame: string }} */ (this.#waiting.shift());
				this.#send(frame);
			}
			if (this.#waiting.length > 0) this.#schedule();
			this.#changed();
		}, wait);
	}
}
