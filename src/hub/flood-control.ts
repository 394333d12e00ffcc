/**
 * Flood control: a token bucket per connection. A connection may send `burst` messages at
 * once, then `messages` per `windowSeconds` on average. A message over the limit is refused;
 * a connection that keeps going (three times the limit within one window) is closed with 1008.
 *
 * The state is plain data so that it lives in the socket's attachment and survives
 * hibernation: waiting for the room to be evicted does not refill anything early.
 */
import type { Config } from "../config.ts";

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
	return { tokens: config.rateLimitBurst, updatedAt: now, strikes: 0, strikesSince: now };
}

/** Takes one token for a message (mutating `bucket`) and says whether the message may go out. */
export function takeToken(bucket: BucketState, config: Config, now: number): Verdict {
	if (config.rateLimitMessages === 0) return { kind: "allow" };
	const windowMs = config.rateLimitWindowSeconds * 1000;
	const perMs = config.rateLimitMessages / windowMs;
	bucket.tokens = Math.min(config.rateLimitBurst, bucket.tokens + Math.max(0, now - bucket.updatedAt) * perMs);
	bucket.updatedAt = now;
	if (bucket.tokens >= 1) {
		bucket.tokens -= 1;
		return { kind: "allow" };
	}
	if (now - bucket.strikesSince > windowMs) {
		bucket.strikes = 0;
		bucket.strikesSince = now;
	}
	bucket.strikes += 1;
	// Sending three times what the limit allows in one window: no longer a burst, a flood.
	if (bucket.strikes > 2 * config.rateLimitMessages) return { kind: "close" };
	return { kind: "refuse", retryAfterMs: Math.ceil((1 - bucket.tokens) / perMs) };
}
