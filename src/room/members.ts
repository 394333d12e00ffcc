/**
 * Who is in the room and in which of its objects: the room's presence (src/room/presence.ts, each
 * member once however many tabs) kept together with the directory's record of which object holds
 * which member (src/room/shard-directory.ts, in SQLite, so the room's eviction forgets nobody).
 * It turns arrivals and departures, wherever they happen, into the `join` and `leave` the burst
 * carries: a member's first connection in the whole room joins, its last one leaves.
 */
import { type Holder, holderKey } from "../wire/identity.ts";
import { HELLO_TIMEOUT_MS } from "../wire/limits.ts";
import type { Actor, MemberCounts } from "../wire/rpc.ts";
import { memberKeyOf } from "../wire/rpc.ts";
import type { JoinOrLeave } from "./burst.ts";
import { mentionsIn } from "./mentions.ts";
import { Presence } from "./presence.ts";
import type { ShardDirectory } from "./shard-directory.ts";

/**
 * Where a submission came from: `shard`, the object of the room whose client made it (0: the
 * room's own object, or a call of the API; N: shard N), and `counted`, whether its arrival or departure is
 * already in that shard's report of its members (a batch that carries `members`).
 */
export interface Source {
	readonly shard: number;
	readonly counted: boolean;
}

/** A submission of this object's own clients, or of a call of the API. */
export const HERE: Source = { shard: 0, counted: false };

/**
 * How long an admitted upgrade counts for its user (or address) before it arrives: as long as it
 * may stay without saying hello (src/wire/limits.ts `HELLO_TIMEOUT_MS`), so none goes uncounted.
 */
const EXPECTED_MS = HELLO_TIMEOUT_MS;

/** The room's members, over all its objects. */
export class Members {
	/** When each holder's admitted upgrades that have not arrived yet were admitted, by `holderKey`. */
	readonly #expected = new Map<string, number[]>();
	/** Open mode: connections per client address, in the whole room (as far as arrivals and departures told). */
	readonly #addresses = new Map<string, number>();
	readonly #presence = new Presence();
	readonly #directory: ShardDirectory;
	/** Signed mode: a member's key is its user id (and events carry it); open mode: its name. */
	readonly #signed: boolean;

	/**
	 * Rebuilds presence from this object's own members (`here`, from its sockets) and the
	 * record of the shards'. Returns the leaves of members the record had on this object but
	 * whose sockets are gone (the object was reset). After an eviction every socket is still here
	 * and the record is right, so it is not read row by row again: one aggregate compares it.
	 */
	constructor(directory: ShardDirectory, signed: boolean, here: MemberCounts, lost: (news: JoinOrLeave) => void) {
		this.#directory = directory;
		this.#signed = signed;
		for (const [key, name, count] of here) this.#presence.add(key, name, count);
		// A room that never had shards has nobody else to tell (and keeps no record to compare).
		if (!directory.inUse) return;
		for (const [key, name, count] of directory.shardMembers()) this.#presence.add(key, name, count);
		let held = 0;
		for (const [, , count] of here) held += count;
		if (held === directory.connectionsOfMembers(0)) return;
		for (const [key, name] of directory.replace(0, here).removed) {
			if (this.#presence.nameOf(key) === undefined) lost(this.#news("leave", key, name));
		}
	}

	/**
	 * Signed mode: how many connections `userId` holds in the whole room, counting the upgrades
	 * admitted in the last `EXPECTED_MS` that have not arrived yet (so a burst of parallel
	 * upgrades cannot all slip past a limit before the first of them says hello).
	 */
	connectionsOf(userId: string, now: number): number {
		return this.#presence.connectionsOf(userId) + this.#stillExpected(holderKey({ userId }), now);
	}

	/** Open mode: the same, for a client address. */
	connectionsFrom(address: string, now: number): number {
		return (this.#addresses.get(address) ?? 0) + this.#stillExpected(holderKey({ address }), now);
	}

	/** An upgrade was admitted for a user or an address: counted until it arrives. */
	expect(holder: Holder, now: number): void {
		const key = holderKey(holder);
		this.#expected.set(key, [...(this.#expected.get(key) ?? []), now]);
	}

	/** How many of `holder`'s admitted upgrades have neither arrived nor expired. */
	#stillExpected(holder: string, now: number): number {
		const expected = (this.#expected.get(holder) ?? []).filter((at) => now - at < EXPECTED_MS);
		if (expected.length === 0) this.#expected.delete(holder);
		else this.#expected.set(holder, expected);
		return expected.length;
	}

	/** How many members are present. */
	get size(): number {
		return this.#presence.size;
	}

	/** The name a member shows, if present. */
	nameOf(key: string): string | undefined {
		return this.#presence.nameOf(key);
	}

	/** The present names `text` mentions (src/room/mentions.ts). */
	mentionedIn(text: string): string[] {
		return text.includes("@") ? mentionsIn(text, (candidate) => this.#presence.named(candidate)) : [];
	}

	/** The first `limit` names to have arrived, sorted (a welcome's `members`). */
	sample(limit: number): string[] {
		return this.#presence.sample(limit);
	}

	/**
	 * A connection of `actor` arrived through `source`; its member's first in the room is news.
	 * A `counted` source's member is in presence already, from its shard's member list (only its
	 * address is new).
	 */
	arrive(actor: Actor, { shard, counted }: Source = HERE): JoinOrLeave | null {
		const key = memberKeyOf(actor);
		if (actor.userId !== null) this.#expected.get(holderKey({ userId: actor.userId }))?.shift();
		if (actor.address !== undefined) {
			this.#expected.get(holderKey({ address: actor.address }))?.shift();
			this.#addresses.set(actor.address, (this.#addresses.get(actor.address) ?? 0) + 1);
		}
		if (counted) return null;
		this.#directory.arrive(shard, key, actor.name);
		return this.#presence.add(key, actor.name) ? this.#news("join", key, actor.name) : null;
	}

	/** A connection of `actor` left through `source`; its member's last in the room is news (`counted`: as for `arrive`). */
	depart(actor: Actor, { shard, counted }: Source = HERE): JoinOrLeave | null {
		const key = memberKeyOf(actor);
		if (actor.address !== undefined) {
			const left = (this.#addresses.get(actor.address) ?? 1) - 1;
			if (left > 0) this.#addresses.set(actor.address, left);
			else this.#addresses.delete(actor.address);
		}
		if (counted) return null;
		this.#directory.depart(shard, key);
		return this.#presence.remove(key) ? this.#news("leave", key, actor.name) : null;
	}

	/**
	 * A shard reported every member it holds (it was reset, or a call of it failed): its record
	 * is replaced, and the difference is news.
	 */
	replace(shard: number, members: MemberCounts): JoinOrLeave[] {
		const news: JoinOrLeave[] = [];
		const { added, removed } = this.#directory.replace(shard, members);
		for (const [key, name, count] of added) {
			// A member's key is its user id in signed mode (`memberKeyOf`); open mode expects addresses only.
			if (this.#signed) this.#expected.get(holderKey({ userId: key }))?.splice(0, count);
			if (this.#presence.add(key, name, count)) news.push(this.#news("join", key, name));
		}
		for (const [key, name, count] of removed)
			if (this.#presence.remove(key, count)) news.push(this.#news("leave", key, name));
		return news;
	}

	#news(kind: "join" | "leave", key: string, name: string): JoinOrLeave {
		return { kind, name, userId: this.#signed ? key : null };
	}
}
