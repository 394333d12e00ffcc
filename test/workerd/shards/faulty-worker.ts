/**
 * The Worker as shipped (src/index.ts), with its two Durable Object classes given switches for
 * the faults the sharded-room tests need and the real runtime cannot be asked for on cue: a push
 * from the room lost on its way to a shard (a failed call, as when the shard's isolate goes away
 * mid-call), a room object that does not answer a shard's question, and a room object slow to
 * take a shard's batch. The workerd-shards project (vitest.config.ts) runs with this file as its
 * `main`, so the classes bound as `ROOMS` and `SHARDS` are these; with every switch off they do
 * exactly what the product's own do.
 */
import { Room as ShippedRoom } from "../../../src/room/room.ts";
import { RoomShard as ShippedShard } from "../../../src/shard/shard.ts";
import type { Batch, Push } from "../../../src/wire/rpc.ts";

export { default } from "../../../src/index.ts";

/** The room's object, with a stuck `missedPushes` and held `submit`s on demand. */
export class Room extends ShippedRoom {
	#stalled = false;
	#asked = 0;
	#holding = false;
	#held: Batch[] = [];

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

	override submit(batch: Batch): void {
		if (this.#holding) this.#held.push(batch);
		else super.submit(batch);
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
