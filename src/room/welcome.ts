/**
 * The welcome: the one place that builds a rich client's answer to its `hello`. The room asks
 * for it at the client's hello (a `WelcomeRequest`, made by `Dispatcher.#hello` in src/room/dispatcher.ts:
 * who it is and the room as it stood then) and
 * completes it with its history once the burst is committed (`welcomeOf`); hubs send it as it is.
 */
import type { Config } from "../deployment/config.ts";
import type { Allowance, Role, WelcomeEvent } from "../wire/protocol.ts";
import type { Replay } from "../wire/rpc.ts";
import type { RoomSettings } from "../wire/settings.ts";

/** What a welcome says besides its history, fixed when its client said hello. */
export interface WelcomeRequest {
	/** The name it joins under (signed mode: its token's). */
	readonly name: string;
	/** Signed mode: the user's id and role (`null` in open mode). */
	readonly userId: string | null;
	readonly role: Role | null;
	/** Names present then, sorted: all of them, or the first `WELCOME_MEMBERS` to have arrived. */
	readonly members: string[];
	/** How many names were present then. */
	readonly memberCount: number;
	/** The last id it saw, if it is resuming. */
	readonly since: number | undefined;
	/** The newest id given when it said hello: its history goes up to here, later ones reach it live. */
	readonly upTo: number;
	/** The room's settings when it said hello. */
	readonly settings: RoomSettings;
}

/** What every welcome of a room says of its limits, from its settings (`Config`). */
export interface WelcomeLimits {
	readonly messageCap: number;
	/** `null` when flood control is off. */
	readonly allowance: Allowance | null;
}

/** A room's welcome limits, from its settings. */
export function welcomeLimitsOf(config: Config): WelcomeLimits {
	const { richMessageCap: messageCap, rateLimitMessages: messages } = config;
	if (messages === 0) return { messageCap, allowance: null };
	return {
		messageCap,
		allowance: { messages, windowSeconds: config.rateLimitWindowSeconds, bucket: config.rateLimitBucket },
	};
}

/**
 * The welcome a client gets: its request, completed with its history, the room's limits and
 * (signed mode) where its user has read to.
 */
export function welcomeOf(
	request: WelcomeRequest,
	replay: Replay,
	{ messageCap, allowance }: WelcomeLimits,
	readUpTo: number | null,
): WelcomeEvent {
	const welcome: WelcomeEvent = {
		type: "welcome",
		name: request.name,
		members: request.members,
		memberCount: request.memberCount,
		history: replay.messages,
		gap: replay.gap,
		latestId: replay.latestId,
		messageCap,
		settings: request.settings,
	};
	if (allowance) welcome.allowance = allowance;
	if (replay.more) welcome.more = true;
	if (request.userId !== null && request.role !== null) {
		welcome.userId = request.userId;
		welcome.role = request.role;
		welcome.readUpTo = readUpTo ?? 0;
	}
	return welcome;
}
