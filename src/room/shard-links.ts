/**
 * The room's links to its shards: everything about pushing a burst's outcome to the objects
 * that hold the rest of its sockets. It keeps one stub per shard (calls on one stub arrive in
 * order: E-order), or past `RELAY_PAST` shards one per relay (src/relay/relay.ts), numbers each
 * shard's pushes, keeps the last `PUSH_RING` of them so a shard that missed one can fetch it
 * (`missedPushes`), retries a shard it could not reach, and sets the pace of the shards' calls
 * the other way (`submitPace`). The room decides what a burst comes to; this part decides only
 * who gets which part of it, and how it gets there.
 */
import { logEvent } from "../deployment/log-event.ts";
import { CALL_BYTES } from "../wire/limits.ts";
import { shardObjectName } from "../wire/placement.ts";
import { addresseeOf, type Delivery, type Push, type ShardPush, shardOf } from "../wire/rpc.ts";
import { deliveryBytes, inCalls } from "./call-sizes.ts";
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

/**
 * The shards' batches the room's object takes per second at most, all shards together: half of
 * the roughly 1,000 requests a second a Durable Object is meant to take (Cloudflare's documented
 * soft limit), the other half left for upgrades, the HTTP API and catch-up. Each shard is asked
 * to leave `submitPace` between its batches (its clients' doings wait in its burst meanwhile),
 * so a reconnect storm over many shards reaches the room as a few big batches, not one per client.
 */
export const SUBMITS_PER_SECOND = 500;

/** The longest a shard is asked to leave between two batches (what its clients may wait at worst). */
export const MAX_SUBMIT_PACE_MS = 1_000;

/**
 * Shards per relay, past `RELAY_PAST` shards: one level of relays carries 32 × 32 = 1,024 shards
 * (10 million members at the shipped `SHARD_SIZE`) with at most 32 calls per burst at each level.
 */
export const RELAY_GROUP = 32;

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
	/** One stub per shard and per relay, dropped when a call on it fails (a failed call breaks the stub). */
	readonly #stubs = new Map<number, ReturnType<Env["SHARDS"]["get"]>>();
	readonly #relayNamespace: Env["RELAYS"];
	readonly #relayStubs = new Map<number, ReturnType<Env["RELAYS"]["get"]>>();
	/** Shards up to which the room pushes to each itself (`RELAY_PAST`). */
	readonly #relayPast: number;
	/** Names this instance's pushes (`Push.sender`): a shard tells a new room instance by it. */
	readonly #sender = crypto.randomUUID();
	/** The last pushes to each shard, oldest first (their `seq` are consecutive). */
	readonly #recent = new Map<number, Push[]>();
	/**
	 * The number of each shard's last batch taken since the last burst's pushes: the next burst
	 * carries its outcome, and says so on that shard's last push (`Push.answers`).
	 */
	#answering = new Map<number, number>();
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
	constructor(
		env: Pick<Env, "SHARDS" | "RELAYS">,
		relayPast: number,
		roomName: RoomName,
		directory: ShardDirectory,
		storedId: () => number,
	) {
		this.#namespace = env.SHARDS;
		this.#relayNamespace = env.RELAYS;
		this.#relayPast = relayPast;
		this.#roomName = roomName;
		this.#directory = directory;
		this.#storedId = storedId;
	}

	/**
	 * The least time, in ms, a shard leaves between two batches: what `SUBMITS_PER_SECOND` allows
	 * each of the shards holding connections (0 with one: a room of two parts is never held back).
	 */
	get submitPace(): number {
		const shards = this.#directory.holding;
		return shards < 2 ? 0 : Math.min(MAX_SUBMIT_PACE_MS, Math.ceil((shards * 1_000) / SUBMITS_PER_SECOND));
	}

	/** Shard `shard`'s batch number `number` is in the burst being gathered. */
	took(shard: number, number: number): void {
		this.#answering.set(shard, number);
	}

	/**
	 * Sends each shard holding connections its part of a burst: everything for everyone, and
	 * what is addressed to its own connections (a burst of broadcasts alone, the usual one, goes
	 * to every shard as it is: one array shared by all). Not awaited: calls on one stub arrive in
	 * order. `after`: the newest id stored before this burst.
	 *
	 * A shard's last push of the burst names its batch the burst took (`Push.answers`): the
	 * answer to a submit call can reach the shard before the push of the burst before it (both
	 * wait on the same storage write, then travel apart), so the call's answer alone does not say
	 * which push carries the batch's outcome. (The fuzz suite found a closing connection on a
	 * shard closed one push too early, without its welcome, under load.)
	 */
	push(after: number, deliveries: readonly Delivery[]): void {
		const answering = this.#answering;
		this.#answering = new Map();
		const addressed = deliveries.some((delivery) => addresseeOf(delivery) !== null);
		const shards = [...this.#directory.pushedTo(Date.now())];
		if (shards.length === 0) return;
		const parts: { shard: number; deliveries: readonly Delivery[] }[] = [];
		if (!addressed) {
			// A burst of broadcasts alone (the usual one) is cut into calls once, and every shard
			// gets each part in turn: a relay carries a part once for all its shards.
			for (const part of inCalls(deliveries)) {
				for (const shard of shards) parts.push({ shard, deliveries: part });
			}
		} else {
			for (const shard of shards) {
				const own = deliveries.filter((delivery) => {
					const to = addresseeOf(delivery);
					return to === null || shardOf(to) === shard;
				});
				for (const part of own.length > 0 ? inCalls(own) : []) parts.push({ shard, deliveries: part });
			}
		}
		const last = new Map(parts.map((part, index) => [part.shard, index]));
		for (const shard of shards) {
			if (!answering.has(shard) || last.has(shard)) continue;
			last.set(shard, parts.length);
			parts.push({ shard, deliveries: [] });
		}
		const pushes: ShardPush[] = parts.map(({ shard, deliveries: part }, index) => {
			const answers = last.get(shard) === index ? answering.get(shard) : undefined;
			return { shard, push: this.#numbered(shard, after, part, answers) };
		});
		// Past `relayPast` shards every push goes through a relay, whatever this burst's share:
		// one path per shard keeps its pushes in order.
		if (shards.length <= this.#relayPast) for (const { shard, push } of pushes) this.#pushTo(shard, push);
		else this.#relay(pushes);
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

	/** Numbers the next push to `shard` and keeps it in the ring. */
	#numbered(shard: number, after: number, deliveries: readonly Delivery[], answers?: number): Push {
		const recent = this.#recent.get(shard) ?? [];
		const seq = (recent.at(-1)?.seq ?? 0) + 1;
		const push: Push = { after, sender: this.#sender, seq, deliveries, ...(answers === undefined ? {} : { answers }) };
		recent.push(push);
		if (recent.length > PUSH_RING) recent.shift();
		this.#recent.set(shard, recent);
		return push;
	}

	/**
	 * Sends one push. The shard answers with how many connections it holds, which corrects the
	 * room's count (places handed out for upgrades that never arrived included). A failed call
	 * breaks the stub: the shard gets an empty push a moment later, whose number tells it one was
	 * lost, and fetches it (`missedPushes`).
	 */
	#pushTo(shard: number, push: Push): void {
		const stub = this.#stub(this.#namespace, this.#stubs, shard);
		if (!stub) return;
		this.calls.pushed++;
		stub.deliver(push).then(
			(connections) => this.#directory.report(shard, connections),
			(error: unknown) => {
				this.#stubs.delete(shard);
				this.#unreachable(shard, error);
			},
		);
	}

	/**
	 * Sends a burst's pushes through the relays, one call to each relay whose shards get one
	 * (shards 1 to `RELAY_GROUP` go through relay 1, and so on), more when they carry more than
	 * `CALL_BYTES` (a reconnect storm's welcomes, say): the deliveries the shards share (a burst's
	 * broadcasts) cross once per call, so a call counts each delivery once. A shard the relay
	 * could not reach, or every shard of a relay whose call failed (a relay reset mid-burst), is
	 * retried as when a push of the room's own fails: the numbers tell each shard what it missed.
	 */
	#relay(pushes: readonly ShardPush[]): void {
		// The calls on one stub arrive in order, so a shard's pushes split over calls keep theirs.
		const calls: { relay: number; group: ShardPush[]; bytes: number; carried: Set<Delivery> }[] = [];
		const latest = new Map<number, (typeof calls)[number]>();
		for (const item of pushes) {
			const relay = Math.ceil(item.shard / RELAY_GROUP);
			let call = latest.get(relay);
			let added = 0;
			for (const delivery of item.push.deliveries) if (!call?.carried.has(delivery)) added += deliveryBytes(delivery);
			if (!call || (call.bytes + added > CALL_BYTES && call.group.length > 0)) {
				call = { relay, group: [], bytes: 0, carried: new Set() };
				added = 0;
				for (const delivery of item.push.deliveries) added += deliveryBytes(delivery);
				calls.push(call);
				latest.set(relay, call);
			}
			call.group.push(item);
			call.bytes += added;
			for (const delivery of item.push.deliveries) call.carried.add(delivery);
		}
		const room = this.#roomName.value;
		if (room === undefined) return;
		for (const { relay, group } of calls) {
			const stub = this.#stub(this.#relayNamespace, this.#relayStubs, relay);
			if (!stub) return;
			this.calls.pushed++;
			stub.relay(room, group).then(
				(answers) => {
					for (const { shard, connections } of answers) {
						if (connections === null) this.#unreachable(shard, "not reached by its relay");
						else this.#directory.report(shard, connections);
					}
				},
				(error: unknown) => {
					this.#relayStubs.delete(relay);
					for (const { shard } of group) this.#unreachable(shard, error);
				},
			);
		}
	}

	/**
	 * Asks `shard` for its connection count: an empty push (its number keeps the shard's order),
	 * answered with the count, as every push is.
	 */
	recount(shard: number): void {
		const push = { shard, push: this.#numbered(shard, this.#storedId(), []) };
		// By the path this burst's pushes take (one path per shard keeps its pushes in order).
		if ([...this.#directory.pushedTo(Date.now())].length <= this.#relayPast) this.#pushTo(shard, push.push);
		else this.#relay([push]);
	}

	/** A push to `shard` was lost: it gets an empty one after `RETRY_PUSH_MS`. */
	#unreachable(shard: number, error: unknown): void {
		logEvent("shard_unreachable", { shard, error: String(error) });
		if (this.#unreached.size === 0) setTimeout(() => this.#retry(), RETRY_PUSH_MS);
		this.#unreached.add(shard);
	}

	/** Shards a push failed to reach get an empty one, by the same path: its number tells them what they missed. */
	#retry(): void {
		const unreached = new Set(this.#unreached);
		this.#unreached.clear();
		const shards = [...this.#directory.pushedTo(Date.now())];
		const pushes = shards
			.filter((shard) => unreached.has(shard))
			.map((shard) => ({ shard, push: this.#numbered(shard, this.#storedId(), []) }));
		if (shards.length <= this.#relayPast) for (const { shard, push } of pushes) this.#pushTo(shard, push);
		else this.#relay(pushes);
	}

	/** The stub of shard or relay `number` (relays are named like shards, in their own namespace). */
	#stub<N extends Env["SHARDS"] | Env["RELAYS"]>(
		namespace: N,
		stubs: Map<number, ReturnType<N["get"]>>,
		number: number,
	): ReturnType<N["get"]> | null {
		let stub = stubs.get(number);
		if (stub) return stub;
		const roomName = this.#roomName.value;
		if (roomName === undefined) return null;
		stub = namespace.get(namespace.idFromName(shardObjectName(roomName, number))) as ReturnType<N["get"]>;
		stubs.set(number, stub);
		return stub;
	}
}
