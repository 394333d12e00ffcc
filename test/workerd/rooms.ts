/** Room names and stubs for the workerd tests. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Room } from "../../src/room/room.ts";

export { freshRoom } from "../support/room-names.ts";

/** The stub of a room's Durable Object. */
export function stubFor(room: string): DurableObjectStub<Room> {
	return env.ROOMS.get(env.ROOMS.idFromName(room));
}

/** Runs `read` on the live Room instance (waking it if evicted). */
export function inRoom<T>(room: string, read: (instance: Room) => T): Promise<T> {
	return runInDurableObject(stubFor(room), (instance: Room) => read(instance));
}
