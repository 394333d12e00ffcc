/**
 * The Worker's entry point (`main` in wrangler.toml): the request handler and the five Durable
 * Object classes the runtime instantiates. Each lives in its own folder:
 *
 * - `worker/`: routing, before any object is reached;
 * - `gate/`: the checks a request passes at the edge (room name, origin, token, requests per address);
 * - `accounts/`: passkey accounts and Cloudflare Access (the registry, each person's object, the page's `/auth/` requests);
 * - `room/`: the room's own object, its one authority (log, presence, moderation, shards);
 * - `shard/`: the objects that hold a big room's sockets past `SHARD_SIZE`;
 * - `relay/`: the objects a room with more than `RELAY_PAST` shards pushes through;
 * - `hub/`: what every object that holds sockets shares (checks, pacing, fan-out);
 * - `wire/`: everything that crosses a boundary (client events, the calls between objects,
 *   the headers between Worker and objects, the close codes).
 */
export { Person } from "./accounts/person.ts";
export { AccountRegistry } from "./accounts/registry.ts";
export { RoomRelay } from "./relay/relay.ts";
export { Room } from "./room/room.ts";
export { RoomShard } from "./shard/shard.ts";
export { default } from "./worker/worker.ts";
