/**
 * How joins and leaves reach members: the one place that decides it. Members (src/room/members.ts)
 * say who came and went; this part passes each `join` and `leave` on as it is while the room has
 * fewer than `PRESENCE_LIMIT` members, and past that holds them and sends one `presence` event at
 * most every `PRESENCE_INTERVAL_MS`: who came and went meanwhile (a reconnect in the same
 * interval is neither) and how many are present (src/wire/presence.ts, PROTOCOL.md "Presence").
 *
 * Why: every join reaches every member, so a deploy of a room of N, every member coming back,
 * is N² deliveries (10^10 at 100,000); coalesced, it is one event per member per interval.
 */
import type { PresentMember } from "../wire/presence.ts";
import { PRESENCE_INTERVAL_MS, PRESENCE_NAMES } from "../wire/presence.ts";
import { memberKeyOf } from "../wire/rpc.ts";
import type { JoinOrLeave, Staged } from "./burst.ts";

/** A member's changes since the last `presence` event: the first and the latest. */
interface MemberChanges {
	readonly first: "join" | "leave";
	last: "join" | "leave";
	readonly member: PresentMember;
}

/** The room's presence news, as its members hear it. */
export class PresenceNews {
	readonly #limit: number;
	/** Called when a held `presence` event falls due with no burst to carry it (the room ends one). */
	readonly #due: () => void;
	/** Changes held since the last `presence` event, by member (user id, or name in open mode). */
	readonly #held = new Map<string, MemberChanges>();
	#lastSent = Number.NEGATIVE_INFINITY;
	#timer: ReturnType<typeof setTimeout> | undefined;
	/** The timer fired: held news goes out with the next burst, even an empty one. */
	#fired = false;

	/** Events per change below `limit` members; `due` is called when held news must go out. */
	constructor(limit: number, due: () => void) {
		this.#limit = limit;
		this.#due = due;
	}

	/** Whether held news has waited its interval out and is to go with the next burst. */
	get due(): boolean {
		return this.#fired;
	}

	/**
	 * The burst as members get it, with `present` members in the room now: below the limit (and
	 * nothing held) it is unchanged; otherwise its joins and leaves are held, and the `presence`
	 * event of what is held is added once the interval since the last one has passed.
	 */
	route(burst: Staged[], present: number, now: number): Staged[] {
		if (present < this.#limit && this.#held.size === 0) return burst;
		const kept = burst.filter((item) => {
			if (item.kind !== "join" && item.kind !== "leave") return true;
			this.#hold(item);
			return false;
		});
		if (this.#held.size === 0) return kept;
		const wait = this.#lastSent + PRESENCE_INTERVAL_MS - now;
		if (wait > 0) {
			this.#timer ??= setTimeout(() => {
				this.#timer = undefined;
				this.#fired = true;
				this.#due();
			}, wait);
			return kept;
		}
		this.#lastSent = now;
		this.#fired = false;
		return [...kept, this.#release(present)];
	}

	#hold(news: JoinOrLeave): void {
		const key = memberKeyOf(news);
		const change = this.#held.get(key);
		if (change) change.last = news.kind;
		else {
			const member = news.userId === null ? { name: news.name } : { name: news.name, userId: news.userId };
			this.#held.set(key, { first: news.kind, last: news.kind, member });
		}
	}

	/**
	 * The `presence` event of what is held, and nothing held after. It goes out even when every
	 * change cancelled out: a member welcomed meanwhile may have counted one who was away.
	 */
	#release(present: number): Staged {
		const joins: PresentMember[] = [];
		const leaves: PresentMember[] = [];
		let joined = 0;
		let left = 0;
		// Joined then left, or left then came back (a reconnect): nothing changed for the others.
		for (const { first, last, member } of this.#held.values()) {
			if (first !== last) continue;
			if (last === "join" && joined++ < PRESENCE_NAMES) joins.push(member);
			if (last === "leave" && left++ < PRESENCE_NAMES) leaves.push(member);
		}
		this.#held.clear();
		return { kind: "presence", event: { type: "presence", memberCount: present, joins, leaves, joined, left } };
	}
}
