/**
 * Presence on the wire: who comes and goes, as members hear of it. A room of fewer than
 * `PRESENCE_LIMIT` members (a setting, src/deployment/config.ts) sends every join and leave as its own
 * event (`join`, `leave`). Past it, one `presence` event at most every `PRESENCE_INTERVAL_MS`
 * says who came and went since the last one and how many are present, as Phoenix's
 * `presence_diff` and Ably's occupancy do: a deploy of a room of 100,000, every member leaving
 * and coming back, is then about 30 events per member instead of 100,000 (PROTOCOL.md,
 * "Presence"). Part of the wire protocol: src/wire/protocol.ts re-exports everything here.
 */

/** Past `PRESENCE_LIMIT` members, joins and leaves reach members at most this often (ms). */
export const PRESENCE_INTERVAL_MS = 1_000;
/** The most names a `presence` event lists of those who joined, and of those who left. */
export const PRESENCE_NAMES = 50;

/** A name appeared in the room (its first connection; signed mode: its user's first). */
export interface JoinEvent {
	type: "join";
	name: string;
	/** Signed mode: the user's id. */
	userId?: string;
}

/** A name left the room (its last connection closed; signed mode: its user's last). */
export interface LeaveEvent {
	type: "leave";
	name: string;
	/** Signed mode: the user's id. */
	userId?: string;
}

/** One member in a `presence` event. */
export interface PresentMember {
	name: string;
	/** Signed mode: the user's id. */
	userId?: string;
}

/**
 * A room past `PRESENCE_LIMIT`: who came and went since the last `presence` event (or the
 * client's welcome). A member who left and came back within the interval (a reconnect) is in
 * neither list; one who came and went again is in neither either.
 */
export interface PresenceEvent {
	type: "presence";
	/** How many members are present now: the client's count is this, whatever it counted before. */
	memberCount: number;
	/** Who joined (at most `PRESENCE_NAMES`, the first to have come). */
	joins: PresentMember[];
	/** Who left (at most `PRESENCE_NAMES`). */
	leaves: PresentMember[];
	/** How many joined and left in all (more than the lists hold when they are cut). */
	joined: number;
	left: number;
}
