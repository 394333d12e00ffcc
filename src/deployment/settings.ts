/**
 * Every setting, declared once: its name, default, range, the task it belongs to and what it
 * does. Everything else is derived from this list: how the Worker reads and checks it
 * (src/deployment/config.ts), the settings tables of docs/operating.md and the `[vars]` of
 * wrangler.toml (both written by `npm run settings`, and held to this list by
 * test/docs/settings.test.ts). To add a setting: declare it here, read it in `readConfig`, run
 * `npm run settings`.
 */

/** The tasks settings are grouped by, in the order docs/operating.md and wrangler.toml list them. */
export const GROUPS = {
	public: "A public room",
	messages: "Messages, history and flood control",
	connections: "Connections",
	signed: "Signed mode",
	accounts: "Accounts: passkeys and Cloudflare Access",
	api: "The HTTP API and webhooks",
	scale: "Big rooms (internal scaling knobs)",
} as const;

export type Group = keyof typeof GROUPS;

interface Declared {
	readonly group: Group;
	/** What it does, for the docs' table; its first sentence is wrangler.toml's comment. */
	readonly says: string;
}

/** A whole number between `min` and `max`. `default: null`: unset, it follows another setting (`unset` says which). */
export interface IntegerSetting extends Declared {
	readonly kind: "integer";
	readonly default: number | null;
	readonly min: number;
	readonly max: number;
	readonly unset?: string;
}

/** `true` or `false`. */
export interface BooleanSetting extends Declared {
	readonly kind: "boolean";
	readonly default: boolean;
}

/** Text in a shape of its own (checked by `readConfig`); empty is its default. */
export interface TextSetting extends Declared {
	readonly kind: "text";
	/** The shape, as the docs' range column says it. */
	readonly shape: string;
	/** What empty means, as the docs' default column says it. */
	readonly empty: string;
}

/** A Worker secret (`npx wrangler secret put NAME`; locally `.dev.vars`), never a `[vars]` entry. */
export interface SecretSetting extends Declared {
	readonly kind: "secret";
	readonly shape: string;
	readonly empty: string;
}

export type Setting = IntegerSetting | BooleanSetting | TextSetting | SecretSetting;

/** Settings that were renamed: a deploy still setting the old name fails loudly rather than being ignored. */
export const RENAMED: Readonly<Record<string, string>> = {
	RATE_LIMIT_UPGRADES:
		"RATE_LIMIT_UPGRADES is now RATE_LIMIT_ROOM_REQUESTS (it also counts the requests that ask why an upgrade was refused); rename it",
	RATE_LIMIT_BURST:
		"RATE_LIMIT_BURST is now RATE_LIMIT_BUCKET (how many messages a connection may send at once: its token bucket's size); rename it",
};

/** Every setting, by name; within a group, in the order the docs list them. */
export const SETTINGS = {
	ALLOWED_ORIGINS: {
		group: "public",
		kind: "text",
		shape: "comma-separated origins, or `*`",
		empty: "(empty)",
		says: "Pages, besides the chat's own host and `localhost` / `127.0.0.1` / `[::1]` on any port, allowed to open sockets. Others get `403` before the upgrade (cross-site WebSocket hijacking).",
	},
	ALLOW_MISSING_ORIGIN: {
		group: "public",
		kind: "boolean",
		default: true,
		says: "Whether upgrades without an `Origin` header (non-browser clients; browsers always send one) are allowed.",
	},
	MAX_CONNECTIONS_PER_ADDRESS: {
		group: "public",
		kind: "integer",
		default: 100,
		min: 0,
		max: 10_000_000,
		says: "Open mode: connections one client address (`CF-Connecting-IP`; an IPv6 address by its /64) may hold in one room, in all its objects; the next upgrade gets `429` with `Retry-After: 10`. `0` turns it off. At 100, filling a room of the default `MAX_CONNECTIONS` takes a thousand addresses.",
	},
	RATE_LIMIT_ROOM_REQUESTS: {
		group: "public",
		kind: "boolean",
		default: true,
		says: "Whether requests that reach a room's object (upgrades, a page asking why, stats without the API key) are counted per client address by the `ROOM_REQUEST_LIMIT` binding (600 a minute in wrangler.toml; `429` with `Retry-After` past it). Off only for load tests from one machine.",
	},
	MESSAGE_CAP: {
		group: "messages",
		kind: "integer",
		default: 50,
		min: 1,
		max: 1024 * 1024,
		says: "Longest message a plain (tutorial) client sends, in Unicode code points: longer text frames are cut to this (never splitting a surrogate pair). Plain clients are shown rich messages whole.",
	},
	RICH_MESSAGE_CAP: {
		group: "messages",
		kind: "integer",
		default: 2_000,
		min: 1,
		max: 1024 * 1024,
		says: "Longest message (or edit) a rich client sends, in Unicode code points, line breaks included; longer is refused with `text_too_long`. The welcome tells clients (`messageCap`).",
	},
	MAX_FRAME_BYTES: {
		group: "messages",
		kind: "integer",
		default: 16 * 1024,
		min: 1,
		max: 1024 * 1024,
		says: "Largest frame a client may send, in bytes (UTF-8 for text). A larger frame closes that connection with 1009 and the reason `frame larger than N bytes`; the room carries on. The default holds a 2,000-code-point text however it is written in JSON (at most 6 bytes a character); raise it with `RICH_MESSAGE_CAP`.",
	},
	HISTORY_REPLAY: {
		group: "messages",
		kind: "integer",
		default: 50,
		min: 0,
		max: 10_000,
		says: 'Messages a rich client that joins without saying the last id it saw gets in its welcome, each as it stands now (edited, deleted, its reactions). A client resuming gets at most this or 100 entries, whichever is larger, and pages for the rest (PROTOCOL.md, "History").',
	},
	HISTORY_RETENTION: {
		group: "messages",
		kind: "integer",
		default: 10_000,
		min: 1,
		max: 1_000_000,
		says: "Messages kept per room in its SQLite storage, with every entry after the oldest of them (a message's latest edit, its delete, its reactions: one of each at most); the oldest messages are dropped beyond this, whatever clients send, and no number of reactions or edits pushes a message out. Scroll-back reaches back this far. A client resuming from further back is told there is a gap.",
	},
	RATE_LIMIT_MESSAGES: {
		group: "messages",
		kind: "integer",
		default: 10,
		min: 0,
		max: 1_000_000,
		says: "Flood control: messages per connection per window, on average; `0` turns it off, and with it every rich frame's budget (PROTOCOL.md, \"Errors\"). Over the limit a rich client gets `rate_limited` with `retryAfterMs` and the message goes nowhere, and one refused more than twice the limit within one window (sending three times what is allowed) is closed with 1008. A plain client's messages over the limit are held, in order, and delivered as the allowance refills; up to `RATE_LIMIT_MESSAGES` are held, and one more is a flood: the connection is closed with 1008 `too many messages`.",
	},
	RATE_LIMIT_WINDOW_SECONDS: {
		group: "messages",
		kind: "integer",
		default: 10,
		min: 1,
		max: 3_600,
		says: "The window of the rate above, in seconds.",
	},
	RATE_LIMIT_BUCKET: {
		group: "messages",
		kind: "integer",
		default: 5,
		min: 1,
		max: 1_000_000,
		says: "Messages a connection may send at once before the rate applies (the size of its token bucket). The welcome tells rich clients (`allowance.bucket`).",
	},
	MAX_CONNECTIONS: {
		group: "connections",
		kind: "integer",
		default: 100_000,
		min: 1,
		max: 10_000_000,
		says: "Connections per room, in all its objects together. The next upgrade gets `503` with `Retry-After: 30` and a reason, before the upgrade.",
	},
	HEARTBEAT_TIMEOUT_SECONDS: {
		group: "connections",
		kind: "integer",
		default: 90,
		min: 0,
		max: 86_400,
		says: "A rich connection that sends nothing, not even its 30-second heartbeat ping, for this long is closed with 1001 `no heartbeat` and leaves the member list. A sweep runs every half timeout while rich connections exist, so a silently dead peer is gone within 1.5x this (135 s by default); `0` turns it off.",
	},
	PLAIN_IDLE_TIMEOUT_SECONDS: {
		group: "connections",
		kind: "integer",
		default: 3_600,
		min: 0,
		max: 604_800,
		says: "A plain (tutorial) connection that sends nothing for this long is closed with 1001 `idle: nothing sent for N s`: plain clients have no heartbeat, and a public room must not be held full by sockets that went quiet. Swept by the same alarm as the heartbeat; `0` turns it off.",
	},
	MAX_BUFFERED_BYTES: {
		group: "connections",
		kind: "integer",
		default: 1024 * 1024,
		min: 0,
		max: 64 * 1024 * 1024,
		says: "Slow consumers: bytes the room has handed to one connection that its peer has not read yet. A connection that still has more than this waiting when the next burst of messages is about to go to it, or has something waiting and would pass this with the burst, is closed with 1013 `too slow: more than N bytes unread`, without that burst, so one stalled reader cannot grow the room's memory without bound; everyone else keeps receiving everything. A rich client (the page) reconnects and resumes without a gap. `0` turns it off.",
	},
	WEBSOCKET_COMPRESSION: {
		group: "connections",
		kind: "boolean",
		default: false,
		says: 'Whether to accept the `permessage-deflate` compression that browsers offer. Off by default: in a chat room it cost 3-4x the server CPU per delivery and about 225 KiB per connection to save about 110 bytes per frame (bench/README.md, "Compression").',
	},
	AUTH_SECRET: {
		group: "signed",
		kind: "secret",
		shape: "at least 32 bytes",
		empty: "(none: open mode)",
		says: 'A Worker **secret**. Set, it turns on signed mode: every connection needs an HS256 token signed with it (docs/operating.md, "Signed mode"). A shorter value is refused with `500` naming the setting.',
	},
	TOKEN_MAX_LIFETIME_SECONDS: {
		group: "signed",
		kind: "integer",
		default: 86_400,
		min: 0,
		// At most a year (the longest ban): a longer limit would be none, which 0 says plainly.
		max: 31_536_000,
		says: "Signed mode: how far from now a token's `exp` may be (30 s of clock difference aside). A token meant to live longer is refused with `401` `token lives too long: exp is more than N s away`: a leaked token admits its holder until its `exp`, and this bounds how long. `0`: no limit. `npm run token` refuses a longer `--ttl`.",
	},
	TOKEN_AUDIENCE: {
		group: "signed",
		kind: "text",
		shape: "any text (trimmed)",
		empty: "(empty: not checked)",
		says: "Signed mode: the `aud` every token must carry (one value; a token's `aud` may be a list that holds it). Without it, or with another, `401` `bad audience…`. Set it when the same secret signs tokens for other services too. Empty: `aud` is not looked at.",
	},
	MAX_CONNECTIONS_PER_USER: {
		group: "signed",
		kind: "integer",
		default: 20,
		min: 0,
		max: 10_000,
		says: "Signed mode: connections one user may hold in one room (tabs and devices together, in all the room's objects); the next upgrade gets `429` with `Retry-After: 10`. `0` turns it off.",
	},
	SIGN_IN: {
		group: "accounts",
		kind: "text",
		shape: "`open`, or any of `passkeys`, `access`, `tokens`, comma-separated",
		empty: "(empty: `tokens` when `AUTH_SECRET` is set, else `open`)",
		says: "How people get in. `open`: anyone, under any name (no accounts; it cannot be combined with the others). `passkeys`: accounts of their own, created and signed in to with a passkey on the page. `access`: whoever Cloudflare Access lets through (`ACCESS_TEAM_DOMAIN`, `ACCESS_AUD`). `tokens`: your backend's signed tokens (`AUTH_SECRET`). Any mix of the last three; everyone in a room is then someone.",
	},
	ACCOUNT_CREATION: {
		group: "accounts",
		kind: "text",
		shape: "`anyone`, `invite` or `nobody`",
		empty: "`anyone`",
		says: "Who may create a passkey account: `anyone`; `invite`, whoever opens a one-use invite link the owner made in the account dialog (valid 7 days; the very first account needs none, and becomes the owner); or `nobody` (the accounts that exist keep signing in, and add passkeys from a signed-in device).",
	},
	GUESTS: {
		group: "accounts",
		kind: "text",
		shape: "`none`, `read` or `post`",
		empty: "`none`",
		says: "With accounts or tokens, what someone who is not signed in may do: `none` (they are asked to sign in); `read` (they see the rooms as a read-only guest); or `post` (they also write, as `Guest` and four characters, one guest per address; no account may take a name starting with `Guest`).",
	},
	ACCESS_TEAM_DOMAIN: {
		group: "accounts",
		kind: "text",
		shape: "`https://TEAM.cloudflareaccess.com`",
		empty: "(empty)",
		says: "With `access` in `SIGN_IN`: your Cloudflare Access team domain. The Worker verifies each request's `Cf-Access-Jwt-Assertion` against the team's signing keys (`/cdn-cgi/access/certs` there) and its issuer.",
	},
	ACCESS_AUD: {
		group: "accounts",
		kind: "text",
		shape: "the Access application's audience tag",
		empty: "(empty)",
		says: "With `access` in `SIGN_IN`: the Application Audience (AUD) tag of the Access application in front of this chat; an assertion for another application is refused.",
	},
	OWNER: {
		group: "accounts",
		kind: "text",
		shape: "a handle",
		empty: "(empty: the first account)",
		says: "The account that owns the deployment (a moderator in every room, who invites and gives roles), by its handle. Set it only once that account exists (until then its handle is anyone's to take). Empty: the first passkey or Access account created.",
	},
	API_KEY: {
		group: "api",
		kind: "secret",
		shape: "at least 32 bytes",
		empty: "(none: no API)",
		says: "A Worker **secret**. Set, it turns on the HTTP API under `/api/` for requests with `Authorization: Bearer <API_KEY>` (docs/api.md).",
	},
	WEBHOOK_URL: {
		group: "api",
		kind: "text",
		shape: "an `http` or `https` URL",
		empty: "(empty: no webhooks)",
		says: 'Where every room\'s events are POSTed (docs/operating.md, "Webhooks"). Needs `WEBHOOK_SECRET` and the webhook queues (docs/operating.md, "Turning webhooks on").',
	},
	WEBHOOK_SECRET: {
		group: "api",
		kind: "secret",
		shape: "`whsec_` and the base64 of 24 – 64 bytes",
		empty: "(none)",
		says: "A Worker **secret**: the Standard Webhooks key events are signed with, and receivers verify with.",
	},
	WEBHOOK_RETRY_BASE_SECONDS: {
		group: "api",
		kind: "integer",
		default: 5,
		min: 0,
		max: 3_600,
		says: "The wait before a failed webhook's second attempt, in seconds; each later wait is three times the one before, at most 12 hours.",
	},
	WEBHOOK_TIMEOUT_SECONDS: {
		group: "api",
		kind: "integer",
		default: 10,
		min: 1,
		max: 60,
		says: "How long one webhook attempt waits for the receiver's answer before it counts as failed, in seconds.",
	},
	SHARD_SIZE: {
		group: "scale",
		kind: "integer",
		default: 10_000,
		min: 1,
		// The runtime holds at most 32,768 hibernatable WebSockets per object (docs/platform.md).
		max: 32_768,
		says: "Connections one object of a room holds. The room's own object takes the first `ROOM_SOCKETS`; past that each new connection goes to a shard object of the same room (ARCHITECTURE.md, \"One room, many objects\"). At most 32,768, the runtime's limit of hibernatable sockets per object.",
	},
	ROOM_SOCKETS: {
		group: "scale",
		kind: "integer",
		default: null,
		unset: "`SHARD_SIZE`",
		min: 0,
		max: 32_768,
		says: "Connections the room's own object holds before new ones go to shards. The room's object is the room's coordinator (the log, presence, welcomes, pushes to shards), so a room meant to grow past about 50,000 does better with fewer of its own (1,000, say): at 10 messages a second its own 10,000 sockets would take 0.4 of its thread, 1,000 take 0.04 (docs/capacity.md). 0: every socket goes to a shard.",
	},
	PRESENCE_LIMIT: {
		group: "scale",
		kind: "integer",
		default: 500,
		min: 1,
		max: 10_000_000,
		says: 'Members up to which every join and leave reaches everyone as its own event. From this size on, joins and leaves are gathered into one `presence` event a second with the count (PROTOCOL.md, "Presence"), so a deploy that brings every member back costs about one event per member per second instead of one per member per member. At 500, a room\'s full reconnect as events is 125,000 deliveries.',
	},
	RELAY_PAST: {
		group: "scale",
		kind: "integer",
		default: 32,
		min: 1,
		max: 1_024,
		says: 'Shards up to which the room\'s object pushes each burst to every shard itself. Past it, it pushes through relay objects, one per 32 shards, so a burst costs it one call per relay instead of one per shard (ARCHITECTURE.md, "One room, many objects").',
	},
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** The names of the settings of one kind. */
export type NameOf<K extends Setting["kind"]> = {
	[N in SettingName]: (typeof SETTINGS)[N]["kind"] extends K ? N : never;
}[SettingName];
