/**
 * What crosses between the room's object and the hubs (its own and its shards'): a hub's owner
 * turns what its clients do into `Submission`s (a shard sends them in a `Batch`, one call per
 * burst: `Room.submit`); once the room's log has committed a burst, every hub is handed the
 * `Delivery`s it comes to, in order (a shard gets them in a `Push`, one call per burst:
 * `RoomShard.deliver`).
 *
 * Everything here is plain, structured-clonable data that names connections by id, never by
 * socket, so it crosses Durable Object RPC unchanged.
 */
import type { ChatMessage, LogEntry } from "./log-entries.ts";
import type { PresenceEvent } from "./presence.ts";
import type { ErrorEvent, HistoryEvent, ReactorsEvent, RemovedEvent, Role, WelcomeEvent } from "./protocol.ts";
import type { SettingsEvent, SettingsPatch } from "./settings.ts";

/**
 * A connection, as the room knows it: the hub's `Connection.id`. The room's own connections have
 * a bare UUID; a shard's carry its number first (`3/…`, see {@link shardOf}).
 */
export type ConnectionId = string;

/** Which object of the room holds a connection: 0 for the room's own object, N for shard N. */
export function shardOf(id: ConnectionId): number {
	const slash = id.indexOf("/");
	return slash === -1 ? 0 : Number(id.slice(0, slash));
}

/**
 * Who did something, as the room needs to know: the connection, the name it shows, and in
 * signed mode the user's id and role (`null` in open mode). Presence goes by `userId` when there
 * is one (two tabs of a user are one member), by `name` otherwise.
 */
export interface Actor {
	readonly from: ConnectionId;
	readonly name: string;
	readonly userId: string | null;
	readonly role: Role | null;
	/** Open mode: the client's address (`CF-Connecting-IP`), for the room's count per address. */
	readonly address?: string;
}

/**
 * What a hub's clients did that the room must hear of, in the order they did it:
 * - `arrive`: a plain connection was accepted (plain clients are present from the start);
 * - `hello`: a rich connection joins, resuming after `since` when given;
 * - `send`: a chat message to store and fan out (`clientId` is `null` for plain clients),
 *   answering message `replyTo` when not `null` (`api`: from the HTTP API, not a hub);
 * - `typing`: a joined connection is typing (already throttled by its hub);
 * - `frame`: a plain binary or empty frame, relayed in order but never stored;
 * - `edit`, `delete`: signed mode, a change to message `id` (the room checks who may);
 * - `kick`, `ban`: signed mode, a moderator (the actor; the hub checked the role) removes user
 *   `target` (the room checks the moderator is not banned meanwhile);
 * - `history`: a page of the log, `before` or `after` an id (the other is `null`), for `from`;
 * - `react`: a member adds (`on`) or takes back its reaction `emoji` to message `id`;
 * - `reactors`: who reacted to message `id` with `emoji`, a page from `offset`, for `from`;
 * - `read`: signed mode, the user has read up to log id `id`;
 * - `settings`: signed mode, a moderator (the hub checked the role), or the HTTP API, changes the
 *   room's settings;
 * - `depart`: a named connection has gone.
 */
export type Submission =
	| ({ readonly kind: "arrive" } & Actor)
	| ({ readonly kind: "hello"; readonly since: number | undefined } & Actor)
	| ({
			readonly kind: "send";
			readonly text: string;
			readonly clientId: string | null;
			readonly replyTo: number | null;
			/** Posted through the HTTP API (src/room/operator-desk.ts), not by a client. */
			readonly api?: true;
	  } & Actor)
	| ({ readonly kind: "typing" } & Actor)
	| ({ readonly kind: "frame"; readonly frame: string | ArrayBuffer } & Actor)
	| ({ readonly kind: "edit"; readonly id: number; readonly text: string } & Actor)
	| ({ readonly kind: "delete"; readonly id: number } & Actor)
	| ({ readonly kind: "kick"; readonly target: string } & Actor)
	| ({ readonly kind: "ban"; readonly target: string; readonly seconds: number } & Actor)
	| ({
			readonly kind: "history";
			readonly before: number | null;
			readonly after: number | null;
			readonly limit: number;
	  } & Actor)
	| ({ readonly kind: "react"; readonly id: number; readonly emoji: string; readonly on: boolean } & Actor)
	| ({ readonly kind: "reactors"; readonly id: number; readonly emoji: string; readonly offset: number } & Actor)
	| ({ readonly kind: "read"; readonly id: number } & Actor)
	| ({ readonly kind: "settings"; readonly patch: SettingsPatch } & Actor)
	| ({ readonly kind: "depart" } & Actor);

/** The key presence counts an actor under: its user in signed mode, its name in open mode. */
export function memberKeyOf(actor: Pick<Actor, "name" | "userId">): string {
	return actor.userId ?? actor.name;
}

/**
 * One thing for a hub to fan out, in order, at the end of a burst:
 * - `message`: a stored entry of the log (a message, or an edit or delete of one), for everyone;
 * - `echo`: a stored message again, for one connection (its retried send);
 * - `refused`: a message that could not be stored, for its sender to be told;
 * - `frame`: a plain binary or empty frame, for plain sockets;
 * - `error`: a refusal, for `to` alone;
 * - `remove`: close every connection of `userId` with `code` and `reason`, after telling everyone;
 * - `join`, `leave`, `typing`: presence news, for joined rich connections (`typing` not to `from`);
 * - `presence`: joins and leaves of a room past `PRESENCE_LIMIT`, coalesced (src/room/presence-news.ts);
 * - `welcome`: the answer to one connection's `hello`, whole (src/room/welcome.ts builds it);
 * - `history`: the answer to one connection's `history` request;
 * - `reactors`: the answer to one connection's `reactors` request;
 * - `settings`: the room's settings changed, for every joined rich connection.
 */
export type Delivery =
	| { readonly kind: "message"; readonly message: LogEntry }
	| { readonly kind: "echo"; readonly message: ChatMessage; readonly to: ConnectionId }
	| { readonly kind: "refused"; readonly clientId: string | null; readonly to: ConnectionId }
	| { readonly kind: "frame"; readonly frame: string | ArrayBuffer }
	| { readonly kind: "error"; readonly to: ConnectionId; readonly error: ErrorEvent }
	| {
			readonly kind: "remove";
			readonly userId: string;
			readonly code: number;
			readonly reason: string;
			/** What everyone is told; `null` when they were told already (a ban enforced again). */
			readonly notice: RemovedEvent | null;
	  }
	| { readonly kind: "join" | "leave"; readonly name: string; readonly userId: string | null }
	| { readonly kind: "presence"; readonly event: PresenceEvent }
	| { readonly kind: "typing"; readonly name: string; readonly from: ConnectionId }
	| { readonly kind: "welcome"; readonly to: ConnectionId; readonly event: WelcomeEvent }
	| { readonly kind: "history"; readonly to: ConnectionId; readonly event: HistoryEvent }
	| { readonly kind: "reactors"; readonly to: ConnectionId; readonly event: ReactorsEvent }
	| { readonly kind: "settings"; readonly event: SettingsEvent };

/** Whom a delivery is for: one connection (`to`), or everyone. */
export function addresseeOf(delivery: Delivery): ConnectionId | null {
	return "to" in delivery ? delivery.to : null;
}

/** What a joining client is replayed, and whether some of what it missed is gone. */
export interface Replay {
	/** Oldest first: messages, and in signed mode edits and deletes of them. */
	readonly messages: LogEntry[];
	/** True when some messages it asked for are no longer retained (or `since` is unknown). */
	readonly gap: boolean;
	/** Id of the newest message it is replayed up to (0 when there is none). */
	readonly latestId: number;
	/** Resuming: entries remain after `messages` up to `latestId` (the client pages forward). */
	readonly more: boolean;
}

/**
 * One burst's deliveries for one shard: the ones for everyone and the ones for its own
 * connections. `after` is the newest message id the room had committed before this burst: a
 * shard that has delivered less than that missed messages (a broken stub, the room reset after
 * a commit) and fetches them from the room before it delivers this one. `sender` (one per
 * instance of the room's object) and `seq` (1, 2, 3, ... per shard) tell a shard that a push of
 * the same instance was lost, whatever it carried. `answers`, on a shard's last push of a burst
 * that took one of its batches: that batch's number (`Batch.number`), whose outcome is now
 * delivered in full, so its connections waiting on it to close can close.
 */
export interface Push {
	readonly after: number;
	readonly sender: string;
	readonly seq: number;
	readonly deliveries: readonly Delivery[];
	readonly answers?: number;
}

/** A push for one shard, as a relay (src/relay/relay.ts) hands it on. */
export interface ShardPush {
	readonly shard: number;
	readonly push: Push;
}

/** A relay's answer: each shard's connection count, or `null` for a shard it could not reach. */
export type Relayed = { shard: number; connections: number | null }[];

/** Connections per member (its key, `memberKeyOf`, and its name): what one object of the room holds. */
export type MemberCounts = readonly (readonly [key: string, name: string, connections: number])[];

/**
 * What a shard sends the room's object at the end of its burst, in one call: what its clients
 * did, in order, and how many connections it holds. After it woke, was reset, or could not reach
 * the room, it also reports every name it holds (`members`); the room then takes that as the
 * truth for this shard, and its submissions' arrivals and departures as already counted in it.
 */
export interface Batch {
	/**
	 * The room's name (a room's object is never told its own: it learns it from what reaches it;
	 * a shard of an older version, during a gradual deploy, does not say it).
	 */
	readonly room?: string;
	readonly shard: number;
	/**
	 * The batch's number from this shard's instance (1, 2, 3, ...), which the push carrying its
	 * outcome names (`Push.answers`); a shard of an older version does not say it.
	 */
	readonly number?: number;
	readonly connections: number;
	readonly members?: MemberCounts;
	readonly submissions: readonly Submission[];
}

/** What `GET /api/rooms/NAME` answers: the room's size (docs/operating.md, "The public contract"). */
export interface RoomStats {
	/** Connections in the whole room. */
	connections: number;
	/** Names present (each once). */
	members: number;
	/** The newest message id (0 when there is none). */
	latestId: number;
	/** Connections per object of the room: the room's own object first, then shards 1, 2, ... */
	shards: { connections: number }[];
}
