/**
 * The protocol's fixed limits and names, which PROTOCOL.md states and both sides rely on (the
 * limits that are settings live in src/config.ts). Part of the wire protocol: src/wire/protocol.ts
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
export const HISTORY_BURST = 10;
export const HISTORY_PER_SECOND = 5;
