import { DurableObject } from "cloudflare:workers";
import { shardObjectName } from "../wire/placement.ts";
import type { Relayed, ShardPush } from "../wire/rpc.ts";

/**
 * A relay: one level of the tree a room with many shards pushes through (src/room/shard-links.ts
 * decides when, and which shards each relay serves). The room's object makes one call per burst
 * to each relay instead of one to each shard; the relay makes one call per burst to each of its
 * shards. It keeps nothing and decides nothing: each push is the very one the room would have
 * sent the shard (numbered per shard by the room, kept in the room's ring), so a shard checks
 * order and fetches what it missed from the room exactly as when the room pushes to it itself.
 *
 * Order: the room's calls to a relay arrive in order (E-order on the room's stub), and each is
 * handed on, in the same turn, on one stub per shard (E-order again), so a shard gets its pushes
 * in the room's order. A relay evicted between bursts loses nothing (it holds nothing); a relay
 * reset mid-burst loses the pushes in flight: the room's call fails, it sends those shards an
 * empty push a moment later, whose number tells them what they missed (src/shard/pushes.ts).
 */
export class RoomRelay extends DurableObject<Env> {
	/** One stub per shard, dropped when a call on it fails (a failed call breaks the stub). */
	readonly #stubs = new Map<number, ShardStub>();
	/** Bursts relayed since this instance started (for tests). */
	#relayed = 0;

	/**
	 * Hands each push to its shard, all in this turn (so in order behind the ones before), and
	 * answers once every shard has: each shard's connection count, or `null` if it could not be
	 * reached (the room then treats it as a push it failed to make).
	 */
	async relay(room: string, pushes: readonly ShardPush[]): Promise<Relayed> {
		this.#relayed++;
		const handed = pushes.map(({ shard, push }) =>
			this.#stub(room, shard)
				.deliver(push)
				.then(
					(connections) => ({ shard, connections }),
					() => {
						this.#stubs.delete(shard);
						return { shard, connections: null };
					},
				),
		);
		return Promise.all(handed);
	}

	/** How many bursts this instance has relayed. */
	relayedBursts(): number {
		return this.#relayed;
	}

	#stub(room: string, shard: number): ShardStub {
		let stub = this.#stubs.get(shard);
		if (!stub) {
			stub = this.env.SHARDS.get(this.env.SHARDS.idFromName(shardObjectName(room, shard)));
			this.#stubs.set(shard, stub);
		}
		return stub;
	}
}

/** A stub of a shard's object (src/shard/shard.ts), typed by the generated `Env`. */
type ShardStub = ReturnType<Env["SHARDS"]["get"]>;
