/**
 * The room's limits, read from the Worker's `[vars]` (wrangler.toml). Every limit has a default
 * here and a row in the README; a value that is present but not usable is an operator error and
 * is reported loudly rather than silently replaced.
 */

/** Limits a room enforces, already parsed and range-checked. */
export interface RoomConfig {
	/** Longest chat text, in Unicode code points; longer text frames are cut (plain mode). */
	readonly messageCap: number;
	/** Messages replayed to a client that joins without a `since` (rich mode). */
	readonly historyReplay: number;
	/** Messages kept per room; the oldest are dropped beyond this. */
	readonly historyRetention: number;
}

/** Defaults used when a `[vars]` entry is absent. */
export const DEFAULTS: RoomConfig = {
	messageCap: 50,
	historyReplay: 50,
	historyRetention: 1_000,
};

/** Thrown when a `[vars]` entry is present but unusable. */
export class ConfigError extends Error {
	override name = "ConfigError";
}

/**
 * Reads one integer setting. Accepts a number or a numeric string, because values come from
 * TOML, the dashboard or `wrangler dev --var` and arrive as either.
 */
function integerSetting(
	vars: Record<string, unknown>,
	name: string,
	fallback: number,
	min: number,
	max: number,
): number {
	const raw = vars[name];
	if (raw === undefined || raw === "") return fallback;
	const value = typeof raw === "number" ? raw : Number(String(raw).trim());
	if (!Number.isInteger(value) || value < min || value > max) {
		throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
	}
	return value;
}

/** Parses the room's limits from the Worker environment. */
export function readRoomConfig(env: Partial<Env>): RoomConfig {
	const vars = env as Record<string, unknown>;
	return {
		messageCap: integerSetting(vars, "MESSAGE_CAP", DEFAULTS.messageCap, 1, 1_000_000),
		historyReplay: integerSetting(vars, "HISTORY_REPLAY", DEFAULTS.historyReplay, 0, 10_000),
		historyRetention: integerSetting(vars, "HISTORY_RETENTION", DEFAULTS.historyRetention, 1, 1_000_000),
	};
}
