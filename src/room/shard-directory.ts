/**
 * The room object's record of its shards: how many connections each holds (to place the next
 * upgrade, and for the room's stats) and which members each holds (so presence survives the room
 * object's eviction: its own connections are rebuilt from its sockets, a shard's only from
 * here). Kept in the room's SQLite database, written as shards report. A room that never grew past
 * its own object keeps none of it (src/room/room-store.ts): its members are all in its own
 * sockets. The first shard it places starts the record, with the members its own object holds then.
 */
import type { Config } from "../deployment/config.ts";
import { PLACEMENT_VIEW_MS } from "../wire/placement.ts";
import type { MemberCounts } from "../wire/rpc.ts";
import type { RoomStore } from "./room-store.ts";

/** How the members of one shard changed when it reported the whole of them (`replace`). */
export interface MemberChanges {
	/** Members (with connection counts) it now holds more of. */
	readonly added: MemberCounts;
	/** Members (with connection counts) it now holds fewer of. */
	readonly removed: MemberCounts;
}

/** The average fill of its shards past which the room hands the Worker one more to place on. */
const PLACEMENT_FILL = 0.8;
/** How long past a view's end pushes still go to every shard it named (ms). */
const VIEW_MARGIN_MS = 5_000;

/** The most shards a room has: what `maxConnections` needs beside the room's own object's `roomSockets`. */
function mostShards({ shardSize, roomSockets, maxConnections }: Sizes): number {
	return Math.max(1, Math.ceil((maxConnections - roomSockets) / shardSize));
}

/** The room's sizes a directory places by (src/deployment/config.ts). */
export type Sizes = Pick<Config, "shardSize" | "roomSockets" | "maxConnections">;

/** The shards of one room: numbered 1, 2, 3, ... (0 is the room's own object). */
export class ShardDirectory {
	readonly #store: RoomStore;
	/** The members the room's own object holds (shard 0), to start the record with. */
	readonly #here: () => MemberCounts;
	/** Connections per shard, by number, as last reported plus places handed out since. */
	readonly #connections = new Map<number, number>();
	/** The widest view handed to the Worker, and until when one may be in use (ms). */
	#view = { shards: 0, until: 0 };
	/** Whether the room has had a shard (since it last gave its storage back): then it keeps the record. */
	#inUse = false;

	/** Opens the room's shard tables (once the room keeps anything); `here` says who its own object holds. */
	constructor(store: RoomStore, here: () => MemberCounts) {
		this.#store = store;
		this.#here = here;
		store.define(
			() => {
				store.sql.exec("CREATE TABLE IF NOT EXISTS shards (shard INTEGER PRIMARY KEY, connections INTEGER NOT NULL)");
				// A member is its key (src/wire/rpc.ts `memberKeyOf`) and the name it shows.
				store.sql.exec(`CREATE TABLE IF NOT EXISTS shard_members (
					shard INTEGER NOT NULL,
					key TEXT NOT NULL,
					name TEXT NOT NULL,
					connections INTEGER NOT NULL,
					PRIMARY KEY (shard, key)
				)`);
				store.sql.exec(
					"CREATE TABLE IF NOT EXISTS placement_view (one INTEGER PRIMARY KEY, shards INTEGER, until INTEGER)",
				);
			},
			() => {
				this.#connections.clear();
				this.#view = { shards: 0, until: 0 };
				this.#inUse = false;
			},
		);
		if (!store.kept) return;
		for (const row of store.sql.exec<{ shards: number; until: number }>("SELECT shards, until FROM placement_view")) {
			this.#view = row;
		}
		for (const row of store.sql.exec<{ shard: number; connections: number }>("SELECT shard, connections FROM shards")) {
			this.#connections.set(row.shard, row.connections);
		}
		this.#inUse =
			this.#connections.size > 0 ||
			this.#view.until > 0 ||
			store.sql.exec("SELECT 1 FROM shard_members LIMIT 1").toArray().length > 0;
	}

	/** Until when a view handed to the Worker may still place upgrades on shards (ms; 0: never handed out). */
	get viewUntil(): number {
		return this.#view.until;
	}

	/** Whether the room has had a shard (since it last gave its storage back): then it keeps the record. */
	get inUse(): boolean {
		return this.#inUse;
	}

	/**
	 * The room has a shard: from now on it keeps who is where, starting with the members its own
	 * object holds (all of them, until now).
	 */
	#use(): void {
		if (this.#inUse) return;
		this.#inUse = true;
		this.#store.keep();
		this.#write(0, this.#here());
	}

	/** Connections held by shards altogether. */
	get connections(): number {
		let total = 0;
		for (const count of this.#connections.values()) total += count;
		return total;
	}

	/** How many shards hold connections now. */
	get holding(): number {
		let shards = 0;
		for (const count of this.#connections.values()) if (count > 0) shards++;
		return shards;
	}

	/** Each shard's connections, by number (1 first); a shard never used again stays listed. */
	list(): { shard: number; connections: number }[] {
		return [...this.#connections].sort(([a], [b]) => a - b).map(([shard, connections]) => ({ shard, connections }));
	}

	/**
	 * The shard that takes the next connection: the lowest-numbered one with fewer than
	 * `shardSize`, or a new one, among the shards `maxConnections` allows beside the room's own
	 * object; `null` when they are all full. Its count goes up at once, so upgrades arriving
	 * before the shard reports are spread correctly; the shard's next report sets the true number.
	 */
	place(sizes: Sizes): number | null {
		let shard = 1;
		while ((this.#connections.get(shard) ?? 0) >= sizes.shardSize) shard++;
		if (shard > mostShards(sizes)) return null;
		this.#set(shard, (this.#connections.get(shard) ?? 0) + 1);
		return shard;
	}

	/**
	 * Hands the Worker a view: how many shards (1 to N) it may place upgrades on by itself, by a
	 * hash, for `PLACEMENT_VIEW_MS` (src/wire/placement.ts). N is every shard used so far, and
	 * more once they hold on average `PLACEMENT_FILL` of `shardSize` (a hash spreads unevenly:
	 * the headroom keeps most upgrades off full shards), within what `maxConnections` allows.
	 * Until every view handed out has expired, each burst is pushed to all N, even those the
	 * room counts empty: a socket the Worker placed on an empty shard gets everything stored
	 * after it opened, before the shard's first report reaches the room.
	 */
	handOutView(sizes: Sizes, now: number): number {
		const wanted = Math.ceil(this.connections / (sizes.shardSize * PLACEMENT_FILL));
		const shards = Math.min(mostShards(sizes), Math.max(1, this.#connections.size, wanted));
		// The margin covers an upgrade already on its way when the view expires.
		const until = now + PLACEMENT_VIEW_MS + VIEW_MARGIN_MS;
		if (shards > this.#view.shards || until > this.#view.until + VIEW_MARGIN_MS) {
			this.#view = { shards: Math.max(shards, this.#view.shards), until };
			const { shards: widest } = this.#view;
			this.#store.sql.exec(
				"INSERT OR REPLACE INTO placement_view (one, shards, until) VALUES (1, ?, ?)",
				widest,
				until,
			);
		}
		return shards;
	}

	/** Shards each burst is pushed to: those that hold (or were handed) connections, and those a live view names. */
	*pushedTo(now: number): Iterable<number> {
		const viewed = this.#view.until > now ? this.#view.shards : 0;
		for (let shard = 1; shard <= viewed; shard++) yield shard;
		for (const [shard, connections] of this.#connections) if (connections > 0 && shard > viewed) yield shard;
	}

	/** A shard says how many connections it holds. */
	report(shard: number, connections: number): void {
		if (this.#connections.get(shard) !== connections) this.#set(shard, connections);
	}

	#set(shard: number, connections: number): void {
		this.#use();
		this.#connections.set(shard, connections);
		this.#store.sql.exec(
			"INSERT INTO shards (shard, connections) VALUES (?, ?) ON CONFLICT (shard) DO UPDATE SET connections = excluded.connections",
			shard,
			connections,
		);
	}

	/** One more connection of member `key` (showing `name`) on `shard` (recorded once the room has shards). */
	arrive(shard: number, key: string, name: string): void {
		if (shard > 0) this.#use();
		else if (!this.#inUse) return;
		this.#store.sql.exec(
			`INSERT INTO shard_members (shard, key, name, connections) VALUES (?, ?, ?, 1)
			 ON CONFLICT (shard, key) DO UPDATE SET connections = connections + 1`,
			shard,
			key,
			name,
		);
	}

	/** One connection of member `key` on `shard` fewer. */
	depart(shard: number, key: string): void {
		if (shard > 0) this.#use();
		else if (!this.#inUse) return;
		const sql = this.#store.sql;
		sql.exec("UPDATE shard_members SET connections = connections - 1 WHERE shard = ? AND key = ?", shard, key);
		sql.exec("DELETE FROM shard_members WHERE shard = ? AND key = ? AND connections <= 0", shard, key);
	}

	/**
	 * An object of the room reports every member it holds (a shard after it woke, was reset, or
	 * could not reach the room; the room's own object, shard 0, when it starts): its record is
	 * replaced, writing only what changed, and the difference returned for presence.
	 */
	replace(shard: number, members: MemberCounts): MemberChanges {
		if (shard > 0) this.#use();
		else if (!this.#inUse) return { added: [], removed: [] };
		return this.#write(shard, members);
	}

	/** Replaces shard `shard`'s record with `members`, writing only what changed; returns the difference. */
	#write(shard: number, members: MemberCounts): MemberChanges {
		const sql = this.#store.sql;
		const before = new Map(this.membersOf(shard).map((member) => [member[0], member]));
		const after = new Map(members.map((member) => [member[0], member]));
		const added: [string, string, number][] = [];
		const removed: [string, string, number][] = [];
		for (const [key, name, count] of after.values()) {
			const difference = count - (before.get(key)?.[2] ?? 0);
			if (difference === 0) continue;
			if (difference > 0) added.push([key, name, difference]);
			else removed.push([key, name, -difference]);
			sql.exec(
				`INSERT INTO shard_members (shard, key, name, connections) VALUES (?, ?, ?, ?)
				 ON CONFLICT (shard, key) DO UPDATE SET connections = excluded.connections`,
				shard,
				key,
				name,
				count,
			);
		}
		for (const [key, name, count] of before.values()) {
			if (after.has(key)) continue;
			removed.push([key, name, count]);
			sql.exec("DELETE FROM shard_members WHERE shard = ? AND key = ?", shard, key);
		}
		return { added, removed };
	}

	/** How many connections of members the record says shard `shard` holds (one aggregate, no rows read out). */
	connectionsOfMembers(shard: number): number {
		if (!this.#inUse) return 0;
		return (
			this.#store.sql
				.exec<{ total: number | null }>("SELECT sum(connections) AS total FROM shard_members WHERE shard = ?", shard)
				.one().total ?? 0
		);
	}

	/** The members one shard holds, with their connection counts. */
	membersOf(shard: number): MemberCounts {
		if (!this.#store.kept) return [];
		return rows(
			this.#store.sql.exec<Member>("SELECT key, name, connections FROM shard_members WHERE shard = ?", shard),
		);
	}

	/** Every member held by the shards (not the room's own object), with its count there (to rebuild presence). */
	shardMembers(): MemberCounts {
		if (!this.#inUse) return [];
		return rows(this.#store.sql.exec<Member>("SELECT key, name, connections FROM shard_members WHERE shard > 0"));
	}
}

type Member = { key: string; name: string; connections: number };

function rows(cursor: SqlStorageCursor<Member>): MemberCounts {
	return cursor.toArray().map((row) => [row.key, row.name, row.connections] as const);
}
