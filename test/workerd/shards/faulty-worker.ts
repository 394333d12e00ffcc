/**
 * The Worker as shipped (src/index.ts), with its Durable Object classes given switches for the
 * faults the sharded-room tests need and the real runtime cannot be asked for on cue: a push
 * from the room lost on its way to a shard (a failed call, as when the shard's isolate goes away
 * mid-call), a room object that does not answer a shard's question, a room object slow to take
 * a shard's batch, and a relay reset in the middle of handing a burst on. The workerd-shards and
 * workerd-relays projects (vitest.config.ts) run with this file as their `main`, so the classes
 * bound as `ROOMS`, `SHARDS` and `RELAYS` are these; with every switch off they do exactly what
 * the product's own do.
 */
import { RoomRelay as ShippedRelay } from "../../../src/relay/relay.ts";
import { Room as ShippedRoom } from "../../../src/room/room.ts";
import { RoomShard as ShippedShard } from "../../../src/shard/shard.ts";
import type { Batch, Push, Relayed, ShardPush } from "../../../src/wire/rpc.ts";

export { AccountRegistry, default, Person } from "../../../src/index.ts";

/** The room's object, with a stuck `missedPushes`, held `submit`s and a pace of its choosing on demand. */
export class Room extends ShippedRoom {
	#stalled = false;
	#asked = 0;
	#holding = false;
	#held: Batch[] = [];
	#pace: number | null = null;

	/** From now on, `missedPushes` never answers (a slow or stuck room object). */
	stallMissedPushes(): void {
		this.#stalled = true;
	}

	/** How many times a shard has asked for missed pushes. */
	missedPushesAsked(): number {
		return this.#asked;
	}

	override missedPushes(shard: number, sender: string, seq: number): Push[] | null {
		this.#asked++;
		if (this.#stalled) return new Promise<never>(() => {}) as never;
		return super.missedPushes(shard, sender, seq);
	}

	/** From now on shards' batches are taken in (the call returns) but not acted on until `releaseSubmits`. */
	holdSubmits(): void {
		this.#holding = true;
	}

	/** The kinds of the submissions held, in order. */
	heldSubmissions(): string[] {
		return this.#held.flatMap((batch) => batch.submissions.map((submission) => submission.kind));
	}

	/** Acts on the batches held, in order, and stops holding. */
	releaseSubmits(): void {
		this.#holding = false;
		for (const batch of this.#held.splice(0)) super.submit(batch);
	}

	/** From now on every shard is asked to leave `ms` between its batches, whatever the room's size. */
	paceShards(ms: number): void {
		this.#pace = ms;
	}

	override submit(batch: Batch): number {
		if (this.#holding) this.#held.push(batch);
		const pace = this.#holding ? 0 : super.submit(batch);
		return this.#pace ?? pace;
	}
}

/** A shard that can be told to lose the room's next push. */
export class RoomShard extends ShippedShard {
	#dropNext = false;
	#dropped = 0;

	/** The next push from the room fails (the call throws) before anything of it is delivered. */
	dropNextPush(): void {
		this.#dropNext = true;
	}

	/** How many pushes this instance has lost on purpose. */
	pushesDropped(): number {
		return this.#dropped;
	}

	override deliver(push: Push): Promise<number> {
		if (this.#dropNext) {
			this.#dropNext = false;
			this.#dropped++;
			return Promise.reject(new Error("push lost for a test"));
		}
		return super.deliver(push);
	}
}

/** A relay that can be reset in the middle of the room's next call. */
export class RoomRelay extends ShippedRelay {
	#resetAfter: number | null = null;

	/**
	 * The room's next call hands its pushes to the first `handed` shards only; then the object is
	 * reset (as a crash or a deploy would), and the room's call fails.
	 */
	resetDuringNextRelay(handed: number): void {
		this.#resetAfter = handed;
	}

	override async relay(room: string, pushes: readonly ShardPush[]): Promise<Relayed> {
		const handed = this.#resetAfter;
		if (handed === null) return super.relay(room, pushes);
		this.#resetAfter = null;
		if (handed > 0) await super.relay(room, pushes.slice(0, handed));
		this.ctx.abort("reset mid-burst for a test");
		throw new Error("unreachable: abort throws");
	}
}
