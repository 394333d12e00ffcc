/**
 * The room's links to its shards: everything about pushing a burst's outcome to the objects
 * that hold the rest of its sockets. It keeps one stub per shard (calls on one stub arrive in
 * order: E-order), numbers each shard's pushes, keeps the last `PUSH_RING` of them so a shard
 * that missed one can fetch it (`missedPushes`), and retries a shard it could not reach. The
 * room decides what a burst comes to; this part decides only who gets which part of it, and how
 * it gets there.
 */
import { logEvent } from "../log-event.ts";
import { shardObjectName } from "../wire/placement.ts";
import { addresseeOf, type Delivery, type Push, shardOf } from "../wire/rpc.ts";
import type { RoomName } from "./room-name.ts";
import type { ShardDirectory } from "./shard-directory.ts";

/**
 * How many recent pushes the room keeps per shard for a shard that missed some. A shard misses
 * a push when a call fails (the stub breaks); it notices on the next one and fetches the gap,
 * so a few are enough; a shard further behind than this closes its clients with 1012 to resume.
 * Most bursts are broadcasts, whose deliveries all shards share, so the ring costs about
 * `PUSH_RING` bursts of memory, not `PUSH_RING` per shard.
 */
export const PUSH_RING = 64;

/** How long the room waits before it tries again to reach a shard it could not push to. */
const RETRY_PUSH_MS = 1_000;

/** The room's calls to and from its shards since its object started (for the benchmark). */
export interface ShardCalls {
	/** Batches received from shards (`Room.submit`). */
	submitted: number;
	/** Of those, batches carrying a shard's whole member list (it started empty, or a call of it failed). */
	memberLists: number;
	/** Pushes made to shards. */
	pushed: number;
}

/** The pushes to a room's shards. */
export class ShardLinks {
	readonly #namespace: Env["SHARDS"];
	readonly #directory: ShardDirectory;
	/** The room's name: shards are named after it. */
	readonly #roomName: RoomName;
	/** One stub per shard, dropped when a call on it fails (a failed call breaks the stub). */
	readonly #stubs = new Map<number, ShardStub>();
	/** Names this instance's pushes (`Push.sender`): a shard tells a new room instance by it. */
	readonly #sender = crypto.randomUUID();
	/** The last pushes to each shard, oldest first (their `seq` are consecutive). */
	readonly #recent = new Map<number, Push[]>();
	/** Shards a push to failed, waiting for the retry timer. */
	readonly #unreached = new Set<number>();
	/** The newest id stored, for the empty push that tells an unreached shard it missed one. */
	#storedId: () => number;
	/** Counted for the benchmark (`Room.shardCalls`). */
	readonly calls: ShardCalls = { submitted: 0, memberLists: 0, pushed: 0 };

	/**
	 * Links to the shards `directory` lists, in `namespace`, named after `roomName`; `storedId`
	 * says the log's newest stored id.
	 */
	constructor(namespace: Env["SHARDS"], roomName: RoomName, directory: ShardDirectory, storedId: () => number) {
		this.#namespace = namespace;
		this.#roomName = roomName;
		this.#directory = directory;
		this.#storedId = storedId;
	}

	/**
	 * Sends each shard holding connections its part of a burst: everything for everyone, and
	 * what is addressed to its own connections (a burst of broadcasts alone, the usual one, goes
	 * to every shard as it is: one array shared by all). Not awaited: calls on one stub arrive in
	 * order. `after`: the newest id stored before this burst.
	 */
	push(after: number, deliveries: readonly Delivery[]): void {
		const addressed = deliveries.some((delivery) => addresseeOf(delivery) !== null);
		for (const shard of this.#directory.pushedTo(Date.now())) {
			const own = !addressed
				? deliveries
				: deliveries.filter((delivery) => {
						const to = addresseeOf(delivery);
						return to === null || shardOf(to) === shard;
					});
			if (own.length > 0) this.#pushTo(shard, after, own);
		}
	}

	/**
	 * The pushes to `shard` after its push number `seq` from this instance (`sender`), if the
	 * ring still holds all of them; `null` otherwise (another instance sent them, or too many
	 * were missed): the shard then closes its clients with 1012 to resume.
	 */
	missedPushes(shard: number, sender: string, seq: number): Push[] | null {
		if (sender !== this.#sender) return null;
		const recent = this.#recent.get(shard) ?? [];
		const first = recent[0];
		if (first === undefined || first.seq > seq + 1) return null;
		return recent.filter((push) => push.seq > seq);
	}

	/**
	 * Sends one push and keeps it in the ring. The shard answers with how many connections it
	 * holds, which corrects the room's count (places handed out for upgrades that never arrived
	 * included). A failed call breaks the stub: the shard gets an empty push a moment later, whose
	 * number tells it one was lost, and fetches it (`missedPushes`).
	 */
	#pushTo(shard: number, after: number, deliveries: readonly Delivery[]): void {
		const stub = this.#stub(shard);
		if (!stub) return;
		this.calls.pushed++;
		const recent = this.#recent.get(shard) ?? [];
		const seq = (recent.at(-1)?.seq ?? 0) + 1;
		const push: Push = { after, sender: this.#sender, seq, deliveries };
		recent.push(push);
		if (recent.length > PUSH_RING) recent.shift();
		this.#recent.set(shard, recent);
		stub.deliver(push).then(
			(connections) => this.#directory.report(shard, connections),
			(error: unknown) => {
				logEvent("shard_unreachable", { shard, error: String(error) });
				this.#stubs.delete(shard);
				if (this.#unreached.size === 0) setTimeout(() => this.#retry(), RETRY_PUSH_MS);
				this.#unreached.add(shard);
			},
		);
	}

	/** Shards a push failed to reach get an empty one: its number tells them what they missed. */
	#retry(): void {
		const shards = [...this.#unreached];
		this.#unreached.clear();
		const pushed = new Set(this.#directory.pushedTo(Date.now()));
		for (const shard of shards) if (pushed.has(shard)) this.#pushTo(shard, this.#storedId(), []);
	}

	#stub(shard: number): ShardStub | null {
		let stub = this.#stubs.get(shard);
		if (stub) return stub;
		const roomName = this.#roomName.value;
		if (roomName === undefined) return null;
		stub = this.#namespace.get(this.#namespace.idFromName(shardObjectName(roomName, shard)));
		this.#stubs.set(shard, stub);
		return stub;
	}
}

/** A stub of a shard's object (src/shard/shard.ts), typed by the generated `Env`. */
type ShardStub = ReturnType<Env["SHARDS"]["get"]>;
