/**
 * What this Worker isolate knows of big rooms' shards, so that it places their upgrades itself
 * instead of asking each room's object for every one (src/wire/placement.ts): a room's object
 * that is full hands out, with its `421`, how many shards to place on; the isolate keeps that
 * for `PLACEMENT_VIEW_MS`. In memory only: a new isolate (after a deploy, say) asks once per room
 * and learns it again. Bounded, so an isolate serving many rooms keeps only the latest.
 */
import { PLACEMENT_VIEW_MS, SHARDS_HEADER } from "../wire/placement.ts";

/** Rooms an isolate keeps a view of; the oldest is dropped past this. */
const MAX_ROOMS = 10_000;

/** Each room's shard count and until when it may be used, in the order they were learnt. */
const views = new Map<string, { shards: number; until: number }>();

/** How many shards this isolate may place `room`'s upgrades on by itself, or `null`: ask the room. */
export function shardsOf(room: string, now: number): number | null {
	const view = views.get(room);
	if (!view) return null;
	if (view.until > now) return view.shards;
	views.delete(room);
	return null;
}

/**
 * Learns `room`'s shard count from its object's answer (a `421` says it, and so does a socket it
 * accepted while its shards hold connections), and returns the answer without it: the header is
 * between the room and the Worker, never the client's.
 */
export function learnShards(room: string, answer: Response, now: number): Response {
	const shards = Number(answer.headers.get(SHARDS_HEADER));
	if (!Number.isInteger(shards) || shards < 1) return answer;
	views.delete(room);
	views.set(room, { shards, until: now + PLACEMENT_VIEW_MS });
	if (views.size > MAX_ROOMS) views.delete(views.keys().next().value as string);
	if (answer.status !== 101) return answer;
	const headers = new Headers(answer.headers);
	headers.delete(SHARDS_HEADER);
	return new Response(null, { status: 101, webSocket: answer.webSocket, headers });
}
