/**
 * Every limit edgechat enforces, read from the Worker's `[vars]` (wrangler.toml). Each has a
 * default here and a row in the README; a value that is present but not usable is an operator
 * error and is reported loudly (the request fails with the setting's name) rather than silently
 * replaced by something else.
 */

/** The limits, already parsed and range-checked. */
export interface Config {
	/** Longest text a plain client sends, in Unicode code points (the tutorial's 50: longer is cut). */
	readonly messageCap: number;
	/** Longest text of a rich `send` or `edit`, in Unicode code points (longer is refused). */
	readonly richMessageCap: number;
	/** Largest frame a client may send, in bytes; a larger one closes its connection with 1009. */
	readonly maxFrameBytes: number;
	/** Messages replayed to a client that joins without a `since` (rich mode). */
	readonly historyReplay: number;
	/** Messages kept per room; the oldest are dropped beyond this. */
	readonly historyRetention: number;
	/** Messages a connection may send per `rateLimitWindowSeconds` on average; 0 turns flood control off. */
	readonly rateLimitMessages: number;
	/** The window of the rate limit, in seconds. */
	readonly rateLimitWindowSeconds: number;
	/** Messages a connection may send at once before the rate applies (the bucket's size). */
	readonly rateLimitBurst: number;
	/** Connections a room accepts, in all its objects; the next one gets 503 before the upgrade. */
	readonly maxConnections: number;
	/** Open mode: connections one client address may hold in a room, in all its parts; 0 = no limit. */
	readonly maxConnectionsPerAddress: number;
	/** Signed mode: connections one user may hold in a room, in all its parts; 0 = no limit. */
	readonly maxConnectionsPerUser: number;
	/** Connections one shard of a room holds. */
	readonly shardSize: number;
	/** Connections the room's own object holds before shards take the rest (`SHARD_SIZE` unless set). */
	readonly roomSockets: number;
	/** Members up to which every join and leave is its own event; past it, coalesced `presence` events. */
	readonly presenceLimit: number;
	/** Shards up to which the room pushes to each itself; past it, through relays (src/relay/relay.ts). */
	readonly relayPast: number;
	/** Extra origins allowed to open sockets (exact `scheme://host[:port]`), or `*` for any. */
	readonly allowedOrigins: readonly string[];
	/** Whether upgrades without an `Origin` header (non-browser clients) are allowed. */
	readonly allowMissingOrigin: boolean;
	/** A rich connection silent (no frame, no ping) this long is closed as dead, in seconds; 0 = never. */
	readonly heartbeatTimeoutSeconds: number;
	/** A plain connection that sends nothing this long is closed as idle, in seconds; 0 = never. */
	readonly plainIdleTimeoutSeconds: number;
	/** Bytes handed to a socket that its peer has not taken yet, past which it is cut off; 0 = never. */
	readonly maxBufferedBytes: number;
	/** Whether to accept a client's offer of `permessage-deflate` (browsers always offer it). */
	readonly compression: boolean;
	/** Whether requests that reach a room's object are counted per client address by `ROOM_REQUEST_LIMIT` (429 past it). */
	readonly rateLimitRoomRequests: boolean;
	/** Signed mode: the secret tokens are signed with (`AUTH_SECRET`, a Worker secret); `null` in open mode. */
	readonly authSecret: string | null;
	/** Signed mode: how far from now a token's `exp` may lie, in seconds (past the clock tolerance); 0 = no limit. */
	readonly tokenMaxLifetimeSeconds: number;
	/** Signed mode: the `aud` every token must carry; `null`: tokens need none and any is accepted. */
	readonly tokenAudience: string | null;
	/** The HTTP API's key (`API_KEY`, a Worker secret); `null`: the API is off (docs/api.md). */
	readonly apiKey: string | null;
	/** Webhooks (`WEBHOOK_URL` and `WEBHOOK_SECRET`); `null`: none are sent (README.md, "Webhooks"). */
	readonly webhooks: WebhookSettings | null;
}

/** Where and how webhook events are delivered. */
export interface WebhookSettings {
	/** The receiver, an http(s) URL. */
	readonly url: string;
	/** Standard Webhooks' `whsec_` secret (base64 of 24 to 64 bytes) the requests are signed with. */
	readonly secret: string;
	/** The wait before the first retry, in seconds; each next wait is three times the last (12 h at most). */
	readonly retryBaseSeconds: number;
	/** How long an attempt waits for the receiver's answer before it counts as failed, in seconds. */
	readonly timeoutSeconds: number;
}

/** Defaults used when a `[vars]` entry is absent. */
export const DEFAULTS: Config = {
	messageCap: 50,
	richMessageCap: 2_000,
	maxFrameBytes: 16 * 1024,
	historyReplay: 50,
	historyRetention: 10_000,
	rateLimitMessages: 10,
	rateLimitWindowSeconds: 10,
	rateLimitBurst: 5,
	maxConnections: 100_000,
	maxConnectionsPerUser: 20,
	maxConnectionsPerAddress: 100,
	shardSize: 10_000,
	roomSockets: 10_000,
	presenceLimit: 500,
	relayPast: 32,
	allowedOrigins: [],
	allowMissingOrigin: true,
	heartbeatTimeoutSeconds: 90,
	plainIdleTimeoutSeconds: 3_600,
	maxBufferedBytes: 1024 * 1024,
	compression: false,
	rateLimitRoomRequests: true,
	authSecret: null,
	tokenMaxLifetimeSeconds: 86_400,
	tokenAudience: null,
	apiKey: null,
	webhooks: null,
};

/** Defaults of the webhook settings that have one. */
export const WEBHOOK_DEFAULTS = { retryBaseSeconds: 5, timeoutSeconds: 10 } as const;

/**
 * Thrown when a `[vars]` entry is present but unusable. Its `message` says why and may quote the
 * value, which can be a secret (a webhook URL with a token in it), so it goes to the server's log
 * only (`bad_config`); clients are told `forClients`, which names the setting and nothing of it.
 */
export class ConfigError extends Error {
	override name = "ConfigError";

	constructor(
		/** The setting that is unusable (`WEBHOOK_URL`). */
		readonly setting: string,
		message: string,
	) {
		super(message);
	}

	/** What a client is told: the setting's name, never its value. */
	get forClients(): string {
		return `${this.setting} is not usable (the server's log says why)`;
	}
}

type Vars = Record<string, unknown>;

/**
 * Reads one integer setting. Accepts a number or a numeric string, because values come from
 * TOML, the dashboard or `wrangler dev --var` and arrive as either.
 */
function integer(vars: Vars, name: string, fallback: number, min: number, max: number): number {
	const raw = vars[name];
	if (raw === undefined || raw === "") return fallback;
	const value = typeof raw === "number" ? raw : Number(String(raw).trim());
	if (!Number.isInteger(value) || value < min || value > max) {
		throw new ConfigError(name, `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
	}
	return value;
}

function boolean(vars: Vars, name: string, fallback: boolean): boolean {
	const raw = vars[name];
	if (raw === undefined || raw === "") return fallback;
	const text = String(raw).trim().toLowerCase();
	if (text === "true") return true;
	if (text === "false") return false;
	throw new ConfigError(name, `${name} must be "true" or "false", got ${JSON.stringify(raw)}`);
}

/**
 * A secret: absent or empty means none. One shorter than 32 bytes is refused: HS256 with a short
 * secret can be brute-forced from one token, and an API key should be as hard to guess.
 */
function secret(vars: Vars, name: string): string | null {
	const raw = vars[name];
	if (raw === undefined || raw === "") return null;
	if (typeof raw !== "string" || new TextEncoder().encode(raw).length < 32) {
		throw new ConfigError(name, `${name} must be at least 32 bytes (for example: openssl rand -base64 32)`);
	}
	return raw;
}

/**
 * Webhooks: on when `WEBHOOK_URL` is set, which then needs `WEBHOOK_SECRET` in Standard Webhooks'
 * form (`whsec_` and the base64 of 24 to 64 random bytes) and the `WEBHOOKS` queue binding.
 */
function webhooks(vars: Vars): WebhookSettings | null {
	const url = vars.WEBHOOK_URL;
	if (url === undefined || url === "") {
		if (vars.WEBHOOK_SECRET !== undefined && vars.WEBHOOK_SECRET !== "") {
			throw new ConfigError("WEBHOOK_SECRET", "WEBHOOK_SECRET is set but WEBHOOK_URL is not: set both, or neither");
		}
		return null;
	}
	let parsed: URL;
	try {
		parsed = new URL(String(url));
	} catch {
		throw new ConfigError("WEBHOOK_URL", `WEBHOOK_URL must be an http or https URL, got ${JSON.stringify(url)}`);
	}
	if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
		throw new ConfigError("WEBHOOK_URL", `WEBHOOK_URL must be an http or https URL, got ${JSON.stringify(url)}`);
	}
	const secret = vars.WEBHOOK_SECRET;
	const key = typeof secret === "string" && secret.startsWith("whsec_") ? base64Length(secret.slice(6)) : null;
	if (key === null || key < 24 || key > 64) {
		throw new ConfigError(
			"WEBHOOK_SECRET",
			"WEBHOOK_SECRET must be whsec_ and the base64 of 24 to 64 random bytes (for example: echo whsec_$(openssl rand -base64 32))",
		);
	}
	if (!("WEBHOOKS" in vars)) {
		throw new ConfigError("WEBHOOK_URL", "WEBHOOK_URL needs the WEBHOOKS queue binding (wrangler.toml)");
	}
	return {
		url: parsed.href,
		secret: secret as string,
		retryBaseSeconds: integer(vars, "WEBHOOK_RETRY_BASE_SECONDS", WEBHOOK_DEFAULTS.retryBaseSeconds, 0, 3_600),
		timeoutSeconds: integer(vars, "WEBHOOK_TIMEOUT_SECONDS", WEBHOOK_DEFAULTS.timeoutSeconds, 1, 60),
	};
}

/** How many bytes a base64 text decodes to, or `null` when it is not base64. */
function base64Length(text: string): number | null {
	try {
		return atob(text).length;
	} catch {
		return null;
	}
}

function origins(vars: Vars, name: string): string[] {
	const raw = vars[name];
	if (raw === undefined || raw === "") return [];
	const list = String(raw)
		.split(",")
		.map((origin) => origin.trim())
		.filter(Boolean);
	for (const origin of list) {
		if (origin === "*") continue;
		let parsed: URL;
		try {
			parsed = new URL(origin);
		} catch {
			throw new ConfigError(name, `${name}: ${JSON.stringify(origin)} is not an origin like https://example.com`);
		}
		if (parsed.origin !== origin) {
			throw new ConfigError(name, `${name}: ${JSON.stringify(origin)} is not an origin (write ${parsed.origin})`);
		}
	}
	return list;
}

const parsed = new WeakMap<object, Config>();

/** Parses (once per environment object) every limit from the Worker environment. */
export function readConfig(env: object): Config {
	const cached = parsed.get(env);
	if (cached) return cached;
	const vars = env as Vars;
	// Renamed when the limit grew from upgrades to every request that can wake a room; a deploy
	// that still sets the old name would otherwise find its choice silently ignored.
	if (vars.RATE_LIMIT_UPGRADES !== undefined) {
		throw new ConfigError(
			"RATE_LIMIT_UPGRADES",
			"RATE_LIMIT_UPGRADES is now RATE_LIMIT_ROOM_REQUESTS (it also counts the requests that ask why an upgrade was refused); rename it",
		);
	}
	// The runtime holds at most 32,768 hibernatable WebSockets per object (docs/platform.md).
	const shardSize = integer(vars, "SHARD_SIZE", DEFAULTS.shardSize, 1, 32_768);
	const config: Config = {
		messageCap: integer(vars, "MESSAGE_CAP", DEFAULTS.messageCap, 1, 1024 * 1024),
		richMessageCap: integer(vars, "RICH_MESSAGE_CAP", DEFAULTS.richMessageCap, 1, 1024 * 1024),
		maxFrameBytes: integer(vars, "MAX_FRAME_BYTES", DEFAULTS.maxFrameBytes, 1, 1024 * 1024),
		historyReplay: integer(vars, "HISTORY_REPLAY", DEFAULTS.historyReplay, 0, 10_000),
		historyRetention: integer(vars, "HISTORY_RETENTION", DEFAULTS.historyRetention, 1, 1_000_000),
		rateLimitMessages: integer(vars, "RATE_LIMIT_MESSAGES", DEFAULTS.rateLimitMessages, 0, 1_000_000),
		rateLimitWindowSeconds: integer(vars, "RATE_LIMIT_WINDOW_SECONDS", DEFAULTS.rateLimitWindowSeconds, 1, 3_600),
		rateLimitBurst: integer(vars, "RATE_LIMIT_BURST", DEFAULTS.rateLimitBurst, 1, 1_000_000),
		maxConnections: integer(vars, "MAX_CONNECTIONS", DEFAULTS.maxConnections, 1, 10_000_000),
		maxConnectionsPerUser: integer(vars, "MAX_CONNECTIONS_PER_USER", DEFAULTS.maxConnectionsPerUser, 0, 10_000),
		maxConnectionsPerAddress: integer(
			vars,
			"MAX_CONNECTIONS_PER_ADDRESS",
			DEFAULTS.maxConnectionsPerAddress,
			0,
			10_000_000,
		),
		shardSize,
		// A big room's own object is its coordinator; fewer sockets of its own leave it more thread
		// for that (docs/capacity.md). 0: every socket goes to a shard.
		roomSockets: integer(vars, "ROOM_SOCKETS", shardSize, 0, 32_768),
		presenceLimit: integer(vars, "PRESENCE_LIMIT", DEFAULTS.presenceLimit, 1, 10_000_000),
		relayPast: integer(vars, "RELAY_PAST", DEFAULTS.relayPast, 1, 1_024),
		allowedOrigins: origins(vars, "ALLOWED_ORIGINS"),
		allowMissingOrigin: boolean(vars, "ALLOW_MISSING_ORIGIN", DEFAULTS.allowMissingOrigin),
		heartbeatTimeoutSeconds: integer(vars, "HEARTBEAT_TIMEOUT_SECONDS", DEFAULTS.heartbeatTimeoutSeconds, 0, 86_400),
		plainIdleTimeoutSeconds: integer(vars, "PLAIN_IDLE_TIMEOUT_SECONDS", DEFAULTS.plainIdleTimeoutSeconds, 0, 604_800),
		maxBufferedBytes: integer(vars, "MAX_BUFFERED_BYTES", DEFAULTS.maxBufferedBytes, 0, 64 * 1024 * 1024),
		compression: boolean(vars, "WEBSOCKET_COMPRESSION", DEFAULTS.compression),
		rateLimitRoomRequests: boolean(vars, "RATE_LIMIT_ROOM_REQUESTS", DEFAULTS.rateLimitRoomRequests),
		authSecret: secret(vars, "AUTH_SECRET"),
		// At most a year (the longest ban): a longer limit would be none, which 0 says plainly.
		tokenMaxLifetimeSeconds: integer(
			vars,
			"TOKEN_MAX_LIFETIME_SECONDS",
			DEFAULTS.tokenMaxLifetimeSeconds,
			0,
			31_536_000,
		),
		tokenAudience: String(vars.TOKEN_AUDIENCE ?? "").trim() || DEFAULTS.tokenAudience,
		apiKey: secret(vars, "API_KEY"),
		webhooks: webhooks(vars),
	};
	parsed.set(env, config);
	return config;
}
