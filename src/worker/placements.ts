/**
 * What this Worker isolate knows of big rooms' shards, so that it places their upgrades itself
 * instead of asking each room's object for every one (src/wire/placement.ts): a room's object
 * that is full hands out, with its `421`, how many shards to place on; the isolate keeps that
 * for `PLACEMENT_VIEW_MS`, with the shards it found full meanwhile, so a storm finds each full
 * shard once per isolate instead of sending every unlucky upgrade back to the room. In memory
 * only: a new isolate (after a deploy, say) asks once per room and learns it again. Bounded, so
 * an isolate serving many rooms keeps only the latest.
 */
import { hashedShard, PLACEMENT_VIEW_MS, SHARDS_HEADER } from "../wire/placement.ts";

/** Rooms an isolate keeps a view of; the oldest is dropped past this. */
const MAX_ROOMS = 10_000;

/**
 * Each room's view: its shard count, until when it may be used, and the shards found full here
 * meanwhile (with when), in the order the views were learnt.
 */
const views = new Map<string, { shards: number; until: number; full: Map<number, number> }>();

/**
 * The shard this isolate places an upgrade of `holder` on in `room` by itself, or `null`: ask the
 * room's object (no live view; or the holder's own shard, or every shard, found full here within
 * `PLACEMENT_VIEW_MS`). A holder's upgrades go to the shard its hash names (src/wire/placement.ts
 * `hashedShard`); with no holder, to a random shard not known to be full.
 */
export function shardFor(room: string, holder: string | null, now: number): number | null {
	const view = views.get(room);
	if (!view || view.until <= now) {
		views.delete(room);
		return null;
	}
	const isFull = (shard: number) => now - (view.full.get(shard) ?? Number.NEGATIVE_INFINITY) < PLACEMENT_VIEW_MS;
	if (holder !== null) {
		const shard = hashedShard(holder, view.shards);
		return isFull(shard) ? null : shard;
	}
	const start = Math.floor(Math.random() * view.shards);
	for (let step = 0; step < view.shards; step++) {
		const shard = 1 + ((start + step) % view.shards);
		if (!isFull(shard)) return shard;
	}
	return null;
}

/** A shard of `room` turned an upgrade away as full: this isolate places nothing there for a while. */
export function markFull(room: string, shard: number, now: number): void {
	views.get(room)?.full.set(shard, now);
}

/**
 * Learns `room`'s shard count from its object's answer (a `421` says it, and so does a socket it
 * accepted while its shards hold connections), and returns the answer without it: the header is
 * between the room and the Worker, never the client's.
 */
export function learnShards(room: string, answer: Response, now: number): Response {
	const shards = Number(answer.headers.get(SHARDS_HEADER));
	if (!Number.isInteger(shards) || shards < 1) return answer;
	// What this isolate found full stays known across the room's fresh views.
	const full = views.get(room)?.full ?? new Map<number, number>();
	views.delete(room);
	views.set(room, { shards, until: now + PLACEMENT_VIEW_MS, full });
	if (views.size > MAX_ROOMS) views.delete(views.keys().next().value as string);
	if (answer.status !== 101) return answer;
	const headers = new Headers(answer.headers);
	headers.delete(SHARDS_HEADER);
	return new Response(null, { status: 101, webSocket: answer.webSocket, headers });
}
