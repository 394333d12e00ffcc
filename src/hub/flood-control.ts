/**
 * Flood control: a token bucket per connection. A connection may send `bucket` messages at
 * once, then `messages` per `windowSeconds` on average. Over the limit, a rich client's message
 * is refused and one that keeps going (three times the limit within one window) is closed with
 * 1008; a plain client's messages are held and released as tokens come back (src/hub/hub.ts).
 *
 * The state is plain data so that it lives in the socket's attachment and survives
 * hibernation: waiting for the room to be evicted does not refill anything early.
 */
import type { Config } from "../deployment/config.ts";

/** One connection's bucket. */
export interface BucketState {
	/** Tokens left (fractional while refilling). */
	tokens: number;
	/** When `tokens` was last brought up to date, in ms since the epoch. */
	updatedAt: number;
	/** Messages refused since `strikesSince`. */
	strikes: number;
	/** Start of the window in which `strikes` are counted. */
	strikesSince: number;
}

/** What to do with one message. */
export type Verdict =
	| { readonly kind: "allow" }
	| { readonly kind: "refuse"; readonly retryAfterMs: number }
	| { readonly kind: "close" };

/** A full bucket, for a new connection. */
export function newBucket(config: Config, now: number): BucketState {
	return { tokens: config.rateLimitBucket, updatedAt: now, strikes: 0, strikesSince: now };
}

/**
 * Takes one token if there is one (mutating `bucket`). Returns 0 when it was taken, and
 * otherwise how long until one will be there, in ms; a miss counts as no strike.
 */
export function takeOrWait(bucket: BucketState, config: Config, now: number): number {
	if (config.rateLimitMessages === 0) return 0;
	const perMs = config.rateLimitMessages / (config.rateLimitWindowSeconds * 1000);
	bucket.tokens = Math.min(config.rateLimitBucket, bucket.tokens + Math.max(0, now - bucket.updatedAt) * perMs);
	bucket.updatedAt = now;
	if (bucket.tokens >= 1) {
		bucket.tokens -= 1;
		return 0;
	}
	return Math.ceil((1 - bucket.tokens) / perMs);
}

/**
 * Takes one token for a message (mutating `bucket`) and says whether the message may go out:
 * the rich protocol's rule, where a refused message is answered with `retryAfterMs` and a
 * client refused more than twice the limit within one window is flooding.
 */
export function verdictOf(bucket: BucketState, config: Config, now: number): Verdict {
	const retryAfterMs = takeOrWait(bucket, config, now);
	if (retryAfterMs === 0) return { kind: "allow" };
	if (now - bucket.strikesSince > config.rateLimitWindowSeconds * 1000) {
		bucket.strikes = 0;
		bucket.strikesSince = now;
	}
	bucket.strikes += 1;
	// Sending three times what the limit allows in one window: no longer eager, a flood.
	if (bucket.strikes > 2 * config.rateLimitMessages) return { kind: "close" };
	return { kind: "refuse", retryAfterMs };
}

/** A plain token bucket in memory (no strikes): tokens left, and when they were counted (ms). */
export interface TokenBucket {
	tokens: number;
	at: number;
}

/** A full bucket of `size` tokens. */
export function fullBucket(size: number): TokenBucket {
	return { tokens: size, at: 0 };
}

/**
 * Takes `cost` tokens of `bucket` at `now` (`size` at most, refilled at `perSecond`): 0 when
 * taken, or how many ms until they will be there.
 */
export function takeTokens(bucket: TokenBucket, size: number, perSecond: number, now: number, cost = 1): number {
	bucket.tokens = Math.min(size, bucket.tokens + (Math.max(0, now - bucket.at) * perSecond) / 1000);
	bucket.at = now;
	if (bucket.tokens >= cost) {
		bucket.tokens -= cost;
		return 0;
	}
	return Math.ceil(((cost - bucket.tokens) * 1000) / perSecond);
}
