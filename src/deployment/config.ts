/**
 * Every limit edgechat enforces, read from the Worker's `[vars]` and secrets as
 * src/deployment/settings.ts declares them (default, range, kind). A value that is present but
 * not usable is an operator error and is reported loudly (the request fails with the setting's
 * name) rather than silently replaced by something else.
 */
import { type NameOf, RENAMED, SETTINGS } from "./settings.ts";

/** The limits, already parsed and range-checked. */
export interface Config {
	/** Longest text a plain client sends, in Unicode code points (the tutorial's 50: longer is cut). */
	readonly plainMessageCap: number;
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
	/** Messages a connection may send at once before the rate applies (its token bucket's size). */
	readonly rateLimitBucket: number;
	/** Connections a room accepts, in all its objects; the next one gets 503 before the upgrade. */
	readonly maxConnections: number;
	/** Open mode: connections one client address may hold in a room, in all its objects; 0 = no limit. */
	readonly maxConnectionsPerAddress: number;
	/** Signed mode: connections one user may hold in a room, in all its objects; 0 = no limit. */
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
	/** How people get in (`SIGN_IN`): open mode, or any of passkey accounts, Cloudflare Access and tokens. */
	readonly signIn: SignIn;
	/** Whether everyone in a room is someone (not open mode): rooms count members by user, not by name. */
	readonly signed: boolean;
	/** Who may create a passkey account (`ACCOUNT_CREATION`). */
	readonly accountCreation: "anyone" | "invite" | "nobody";
	/** What someone not signed in may do when it is not open mode (`GUESTS`). */
	readonly guests: "none" | "read" | "post";
	/** The handle of the deployment's owner (`OWNER`); `null`: the first account. */
	readonly owner: string | null;
	/** The HTTP API's key (`API_KEY`, a Worker secret); `null`: the API is off (docs/api.md). */
	readonly apiKey: string | null;
	/** Webhooks (`WEBHOOK_URL` and `WEBHOOK_SECRET`); `null`: none are sent (docs/operating.md, "Webhooks"). */
	readonly webhooks: WebhookSettings | null;
}

/** The ways of getting in that are on. `open` is alone when on. */
export interface SignIn {
	readonly open: boolean;
	readonly passkeys: boolean;
	/** Cloudflare Access: the team domain its assertions are issued by, and this application's audience. */
	readonly access: { readonly teamDomain: string; readonly aud: string } | null;
	readonly tokens: boolean;
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
function integer(vars: Vars, name: NameOf<"integer">, fallback?: number): number {
	const { min, max, default: declared } = SETTINGS[name];
	const raw = vars[name];
	if (raw === undefined || raw === "") return declared ?? (fallback as number);
	const value = typeof raw === "number" ? raw : Number(String(raw).trim());
	if (!Number.isInteger(value) || value < min || value > max) {
		throw new ConfigError(name, `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
	}
	return value;
}

function boolean(vars: Vars, name: NameOf<"boolean">): boolean {
	const raw = vars[name];
	if (raw === undefined || raw === "") return SETTINGS[name].default;
	const text = String(raw).trim().toLowerCase();
	if (text === "true") return true;
	if (text === "false") return false;
	throw new ConfigError(name, `${name} must be "true" or "false", got ${JSON.stringify(raw)}`);
}

/**
 * A secret: absent or empty means none. One shorter than 32 bytes is refused: HS256 with a short
 * secret can be brute-forced from one token, and an API key should be as hard to guess.
 */
function secret(vars: Vars, name: "AUTH_SECRET" | "API_KEY"): string | null {
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
		retryBaseSeconds: integer(vars, "WEBHOOK_RETRY_BASE_SECONDS"),
		timeoutSeconds: integer(vars, "WEBHOOK_TIMEOUT_SECONDS"),
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

/** One of `choices`, or the first when empty. */
function choice<T extends string>(vars: Vars, name: "ACCOUNT_CREATION" | "GUESTS", choices: readonly T[]): T {
	const text = String(vars[name] ?? "").trim();
	if (text === "") return choices[0] as T;
	if (!choices.includes(text as T)) {
		throw new ConfigError(
			name,
			`${name} must be ${choices.map((c) => `"${c}"`).join(" or ")}, got ${JSON.stringify(text)}`,
		);
	}
	return text as T;
}

/** The ways of getting in: `SIGN_IN`, with what each needs. */
function signIn(vars: Vars, authSecret: string | null): SignIn {
	const ways = String(vars.SIGN_IN ?? "")
		.split(",")
		.map((way) => way.trim())
		.filter(Boolean);
	if (ways.length === 0) ways.push(authSecret === null ? "open" : "tokens");
	for (const way of ways) {
		if (!["open", "passkeys", "access", "tokens"].includes(way)) {
			throw new ConfigError("SIGN_IN", `SIGN_IN: ${JSON.stringify(way)} is not one of open, passkeys, access, tokens`);
		}
	}
	if (ways.includes("open") && ways.length > 1) {
		throw new ConfigError(
			"SIGN_IN",
			"SIGN_IN: open cannot be combined with other ways (GUESTS=read lets people read without an account)",
		);
	}
	if (ways.includes("tokens") && authSecret === null) {
		throw new ConfigError("SIGN_IN", "SIGN_IN includes tokens, which needs the AUTH_SECRET secret");
	}
	return {
		open: ways.includes("open"),
		passkeys: ways.includes("passkeys"),
		access: ways.includes("access") ? access(vars) : null,
		tokens: ways.includes("tokens"),
	};
}

/**
 * Cloudflare Access: the team domain (https, or http on this machine for tests) and the
 * application's audience tag, both needed to verify an assertion.
 */
function access(vars: Vars): { teamDomain: string; aud: string } {
	const raw = String(vars.ACCESS_TEAM_DOMAIN ?? "").trim();
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new ConfigError(
			"ACCESS_TEAM_DOMAIN",
			`ACCESS_TEAM_DOMAIN must be a URL like https://team.cloudflareaccess.com, got ${JSON.stringify(raw)}`,
		);
	}
	const local = url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]";
	if (url.protocol !== "https:" && !(local && url.protocol === "http:")) {
		throw new ConfigError("ACCESS_TEAM_DOMAIN", "ACCESS_TEAM_DOMAIN must be an https URL");
	}
	const aud = String(vars.ACCESS_AUD ?? "").trim();
	if (aud === "")
		throw new ConfigError(
			"ACCESS_AUD",
			"SIGN_IN includes access, which needs ACCESS_AUD (the Access application's audience tag)",
		);
	return { teamDomain: url.origin, aud };
}

function origins(vars: Vars, name: "ALLOWED_ORIGINS"): string[] {
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

/** How people get in, and what follows from it. */
function accounts(vars: Vars): Pick<Config, "signIn" | "signed" | "accountCreation" | "guests" | "owner"> {
	const ways = signIn(vars, secret(vars, "AUTH_SECRET"));
	const owner = String(vars.OWNER ?? "")
		.trim()
		.toLowerCase();
	return {
		signIn: ways,
		signed: !ways.open,
		accountCreation: choice(vars, "ACCOUNT_CREATION", ["anyone", "invite", "nobody"] as const),
		guests: choice(vars, "GUESTS", ["none", "read", "post"] as const),
		owner: owner === "" ? null : owner,
	};
}

const parsed = new WeakMap<object, Config>();

/** Parses (once per environment object) every limit from the Worker environment. */
export function readConfig(env: object): Config {
	const cached = parsed.get(env);
	if (cached) return cached;
	const vars = env as Vars;
	for (const [old, now] of Object.entries(RENAMED)) {
		if (vars[old] !== undefined) throw new ConfigError(old, now);
	}
	const shardSize = integer(vars, "SHARD_SIZE");
	const config: Config = {
		plainMessageCap: integer(vars, "MESSAGE_CAP"),
		richMessageCap: integer(vars, "RICH_MESSAGE_CAP"),
		maxFrameBytes: integer(vars, "MAX_FRAME_BYTES"),
		historyReplay: integer(vars, "HISTORY_REPLAY"),
		historyRetention: integer(vars, "HISTORY_RETENTION"),
		rateLimitMessages: integer(vars, "RATE_LIMIT_MESSAGES"),
		rateLimitWindowSeconds: integer(vars, "RATE_LIMIT_WINDOW_SECONDS"),
		rateLimitBucket: integer(vars, "RATE_LIMIT_BUCKET"),
		maxConnections: integer(vars, "MAX_CONNECTIONS"),
		maxConnectionsPerUser: integer(vars, "MAX_CONNECTIONS_PER_USER"),
		maxConnectionsPerAddress: integer(vars, "MAX_CONNECTIONS_PER_ADDRESS"),
		shardSize,
		// A big room's own object is its coordinator; fewer sockets of its own leave it more thread
		// for that (docs/capacity.md). Unset, it holds as many as a shard.
		roomSockets: integer(vars, "ROOM_SOCKETS", shardSize),
		presenceLimit: integer(vars, "PRESENCE_LIMIT"),
		relayPast: integer(vars, "RELAY_PAST"),
		allowedOrigins: origins(vars, "ALLOWED_ORIGINS"),
		allowMissingOrigin: boolean(vars, "ALLOW_MISSING_ORIGIN"),
		heartbeatTimeoutSeconds: integer(vars, "HEARTBEAT_TIMEOUT_SECONDS"),
		plainIdleTimeoutSeconds: integer(vars, "PLAIN_IDLE_TIMEOUT_SECONDS"),
		maxBufferedBytes: integer(vars, "MAX_BUFFERED_BYTES"),
		compression: boolean(vars, "WEBSOCKET_COMPRESSION"),
		rateLimitRoomRequests: boolean(vars, "RATE_LIMIT_ROOM_REQUESTS"),
		authSecret: secret(vars, "AUTH_SECRET"),
		tokenMaxLifetimeSeconds: integer(vars, "TOKEN_MAX_LIFETIME_SECONDS"),
		tokenAudience: String(vars.TOKEN_AUDIENCE ?? "").trim() || null,
		...accounts(vars),
		apiKey: secret(vars, "API_KEY"),
		webhooks: webhooks(vars),
	};
	parsed.set(env, config);
	return config;
}

/** Every setting at its default: what a Worker with no `[vars]` and no secrets runs with. */
export const DEFAULTS: Config = readConfig({});
