/**
 * The protocol's fixed limits and names, which PROTOCOL.md states and both sides rely on (the
 * limits that are settings live in src/deployment/config.ts). Part of the wire protocol: src/wire/protocol.ts
 * re-exports everything here.
 */

/** The name plain-mode clients (no subprotocol) appear under in presence and history. */
export const PLAIN_NAME = "guest";
/** Longest display name, in code points. */
export const MAX_NAME_LENGTH = 32;
/** Longest client-generated message id, in characters. */
export const MAX_CLIENT_ID_LENGTH = 64;
/** Longest user id (a token's `sub`), in characters. */
export const MAX_USER_ID_LENGTH = 128;
/** Longest ban, in seconds (a year). */
export const MAX_BAN_SECONDS = 31_536_000;
/** Longest slow-mode interval a room may set, in seconds (6 hours). */
export const MAX_SLOW_MODE_SECONDS = 21_600;
/** Longest age a room may keep messages to, in days (10 years). */
export const MAX_RETENTION_DAYS = 3_650;
/**
 * The most names a `welcome` lists. A room spread over shards can hold 100,000 members: a welcome
 * listing them all would be megabytes per join, so past this it lists the first to arrive and
 * says how many there are (`memberCount`); joins and leaves keep the client's view current.
 */
export const WELCOME_MEMBERS = 100;
/** The most entries a `history` page (and a resuming welcome, at least) carries. */
export const HISTORY_PAGE_MAX = 100;
/** A `history` request's page size when it names none. */
export const HISTORY_PAGE_DEFAULT = 50;
/** Distinct emoji one message may carry; one more is refused (`too_many_reactions`). */
export const MAX_REACTIONS_PER_MESSAGE = 20;
/** Names listed per emoji in a message's reactions (the count covers everyone). */
export const REACTION_NAMES_SHOWN = 10;
/** Reactors one `reactors` answer lists; and the largest `offset` one may ask from. */
export const REACTORS_PAGE = 100;
export const MAX_REACTORS_OFFSET = 1_000_000;
/** Longest excerpt of the original a reply carries, in code points. */
export const REPLY_EXCERPT_LENGTH = 100;
/** The most distinct names one message's mentions list. */
export const MAX_MENTIONS = 20;
/**
 * History pages a connection may ask for at once, and per second after that: they do not count
 * against the message allowance (a client catching up from far back asks for many), but each is
 * a query, so they have a pace of their own. Over it, a request is answered at once with an empty
 * page that says when to ask again (`retryAfterMs`).
 */
export const HISTORY_BUCKET = 10;
export const HISTORY_PER_SECOND = 5;
/**
 * What every rich frame costs its sender before it is even parsed: one unit per started
 * `FRAME_UNIT_BYTES` (a frame of up to 4 KiB costs 1, one of 16 KiB costs 4), from a budget of
 * `FRAME_BUCKET` units at once, refilled at `FRAME_UNITS_PER_SECOND`. A client doing everything the
 * protocol asks (catching up five pages a second, typing and read positions every 2 s, messages at
 * its allowance, five long ones at once) spends under a third of it; a script sending typing,
 * read or history frames as fast as it can does not get the room's thread for free. A frame over
 * the budget is dropped unread and answered `rate_limited`; `FRAME_STRIKES` of them in a row close
 * the connection with 1008, as a flood of messages does.
 */
export const FRAME_UNIT_BYTES = 4_096;
export const FRAME_BUCKET = 60;
export const FRAME_UNITS_PER_SECOND = 20;
export const FRAME_STRIKES = 10;
/**
 * The largest `typing` or `read` frame, in bytes: either is a few dozen bytes when well formed
 * (`{"type":"read","id":9007199254740991}` is 36), so a larger one is padding and is refused
 * (`bad_event`) however valid its JSON.
 */
export const SMALL_FRAME_BYTES = 64;
/**
 * Byte budgets: how much one answer, one burst and one call may carry, counted as the UTF-8 of
 * the JSON each entry is sent as. A row can be large (a 2,000-character text, its reply quote,
 * mentions and reactions), and a room reset past 128 MB takes every socket with it, so what a
 * burst builds is bounded in bytes, not only in entries:
 * - `HISTORY_BYTES`: one welcome's history, or one `history` page, stops before this many bytes
 *   (with `more: true`: ask for the rest), though it always carries at least one entry;
 * - `CONNECTION_HISTORY_BYTES`: one connection's welcome and pages in one burst of the room's work
 *   together; a page past it is answered at once with no entries and `retryAfterMs`;
 * - `BURST_HISTORY_BYTES`: every welcome and page of one burst together: each gets an equal share
 *   when they are many (a reconnect storm), and pages past it are answered with `retryAfterMs`;
 * - `REACTION_SUMMARY_BYTES`: the names (and user ids) a message's reactions list, all emoji
 *   together (the counts cover everyone; the rest on request: `reactors`);
 * - `CALL_BYTES`: one call between the room's objects (a push to a shard, a call to a relay), a
 *   quarter of the platform's 32 MiB limit on a call's arguments; more goes in several calls.
 */
export const HISTORY_BYTES = 128 * 1024;
export const CONNECTION_HISTORY_BYTES = 256 * 1024;
export const BURST_HISTORY_BYTES = 8 * 1024 * 1024;
export const REACTION_SUMMARY_BYTES = 2 * 1024;
export const CALL_BYTES = 8 * 1024 * 1024;
/**
 * How long a rich connection may stay without saying `hello` (ms): a client says it as soon as its
 * socket opens (the client library opens only once it has a name), so one still silent after this
 * holds a place in the room for nothing and is closed (1008). The room counts an admitted upgrade
 * against its user's or address's limit until it says hello, for as long: so sockets that never
 * join cannot slip past the limits per user and per address.
 */
export const HELLO_TIMEOUT_MS = 10_000;
