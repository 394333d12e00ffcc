/**
 * Who is in a room: each member once, however many connections (tabs) it has, in whichever part
 * of the room (the room's own object or a shard) they are held. A member is its user in signed
 * mode and its name in open mode (its key, src/wire/rpc.ts `memberKeyOf`). It joins with its first
 * connection and leaves with its last. Only the room's object keeps it: presence is the room's,
 * not a hub's. It also answers which present name a mention means (src/room/mentions.ts).
 */
import { mentionKey } from "./mentions.ts";

/** The members present in a room. */
export class Presence {
	/** Name and connections per member, in the order the members arrived. */
	readonly #members = new Map<string, { name: string; connections: number }>();
	/** Present names by their mention key (src/room/mentions.ts), with how many members show each. */
	readonly #names = new Map<string, { name: string; members: number }>();

	/** Counts `count` more connections for a member; true when it was not present (it just joined). */
	add(key: string, name: string, count = 1): boolean {
		const member = this.#members.get(key);
		if (member) {
			member.connections += count;
			return false;
		}
		this.#members.set(key, { name, connections: count });
		const named = this.#names.get(mentionKey(name));
		if (named) named.members++;
		else this.#names.set(mentionKey(name), { name, members: 1 });
		return true;
	}

	/** How many connections a member has (0 when absent). */
	connectionsOf(key: string): number {
		return this.#members.get(key)?.connections ?? 0;
	}

	/** Counts `count` connections fewer for a member; true when that was its last (it just left). */
	remove(key: string, count = 1): boolean {
		const member = this.#members.get(key);
		if (!member) return false;
		member.connections -= count;
		if (member.connections > 0) return false;
		this.#members.delete(key);
		const named = this.#names.get(mentionKey(member.name));
		if (named && --named.members === 0) this.#names.delete(mentionKey(member.name));
		return true;
	}

	/** The present name `candidate` matches without regard to case, if any (a mention's lookup). */
	named(candidate: string): string | undefined {
		return this.#names.get(mentionKey(candidate))?.name;
	}

	/** The name a present member shows, if it is present. */
	nameOf(key: string): string | undefined {
		return this.#members.get(key)?.name;
	}

	/** How many members are present. */
	get size(): number {
		return this.#members.size;
	}

	/**
	 * The names of the first `limit` members to have arrived (of those present), sorted. Costs
	 * `limit`, not the room's size, so a welcome in a room of 100,000 stays cheap.
	 */
	sample(limit: number): string[] {
		const names: string[] = [];
		for (const { name } of this.#members.values()) {
			if (names.length === limit) break;
			names.push(name);
		}
		return names.sort();
	}
}
