/**
 * The Worker for the room simulation (bench/simulate.ts): the shipped Worker, room object and
 * relays, with the shard class replaced by stand-ins (bench/simulate/stand-in.ts) that each stand for
 * thousands of members without sockets. The room's object is the product's own, with one switch:
 * `reset`, which throws the object away as a deploy does (the next call starts a new instance
 * that rehydrates from storage).
 */
import { Room as ShippedRoom } from "../../src/room/room.ts";
import { StandIn } from "./stand-in.ts";

export { AccountRegistry, default, Person, RoomRelay } from "../../src/index.ts";

/** The room's object as shipped, which a deploy can reset. */
export class Room extends ShippedRoom {
	/** Throws this instance away, as a deploy does; its sockets and memory go with it. */
	reset(): void {
		this.ctx.abort("deploy");
	}
}

/** Bound as `SHARDS`: a stand-in for many members of one shard. */
export class RoomShard extends StandIn {}
