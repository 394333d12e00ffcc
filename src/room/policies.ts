/**
 * The room's policies: its settings (PROTOCOL.md, "Room settings"), kept in the room's storage
 * and changed by moderators or the HTTP API, and the one place that applies them to a new
 * message: who may post (`postingRole`) and how often (`slowModeSeconds`). Retention by age is
 * applied by the log (src/room/message-log.ts `dropOlderThan`) at the room's alarm, which this
 * part keeps due within `SWEEP_INTERVAL_MS` while `retentionDays` is set.
 *
 * Slow mode counts per user in signed mode (all of a user's tabs and shards share one interval)
 * and per connection in open mode, where nothing ties two connections to one person. In signed
 * mode a user's messages also draw on one allowance (`RATE_LIMIT_*`, the same bucket each
 * connection has in its hub, src/hub/flood-control.ts) shared by all its connections: ten tabs
 * do not send ten times as much. The times are kept in memory: after the room's object is
 * reset, each sender starts afresh.
 */

import type { Config } from "../deployment/config.ts";
import { logEvent } from "../deployment/log-event.ts";
import { alarmBy } from "../hub/alarm.ts";
import { type BucketState, newBucket, takeOrWait } from "../hub/flood-control.ts";
import type { ErrorCode, ErrorEvent } from "../wire/protocol.ts";
import type { Actor } from "../wire/rpc.ts";
import type { RoomSettings, SettingsPatch } from "../wire/settings.ts";
import { DEFAULT_SETTINGS } from "../wire/settings.ts";
import type { Staged } from "./burst.ts";
import type { RoomStore } from "./room-store.ts";

/** The storage key of the settings. */
const SETTINGS_KEY = "settings";

/** How many senders' times are kept before those past the interval are let go. */
const PRUNE_AT = 1_000;

/** A day, in ms. */
const DAY_MS = 86_400_000;

/** How often messages past `retentionDays` are looked for: they leave within an hour of their time. */
export const SWEEP_INTERVAL_MS = 3_600_000;

/** The room's settings and what they decide. */
export class RoomPolicies {
	readonly #storage: DurableObjectStorage;
	readonly #store: RoomStore;
	#settings: RoomSettings;
	/** When each sender's last message was admitted under slow mode (ms), by user id or connection. */
	readonly #lastSend = new Map<string, number>();
	/** Signed mode: each user's message allowance, shared by all its connections. */
	readonly #allowances = new Map<string, BucketState>();
	readonly #config: Config;

	/**
	 * Reads the settings kept in the room's storage (a room that never changed them has the
	 * defaults); `storage` is the object's, for its alarm.
	 */
	constructor(store: RoomStore, storage: DurableObjectStorage, config: Config) {
		this.#store = store;
		this.#storage = storage;
		this.#config = config;
		const kept = store.kept ? store.kv.get<Partial<RoomSettings>>(SETTINGS_KEY) : undefined;
		this.#settings = { ...DEFAULT_SETTINGS, ...kept };
		store.define(
			() => {},
			() => {
				this.#settings = { ...DEFAULT_SETTINGS };
			},
		);
	}

	/** Whether every setting is its default (a room that changed nothing keeps nothing for them). */
	get isDefault(): boolean {
		return (Object.keys(DEFAULT_SETTINGS) as (keyof RoomSettings)[]).every(
			(key) => this.#settings[key] === DEFAULT_SETTINGS[key],
		);
	}

	/** The settings as they stand. */
	get settings(): RoomSettings {
		return { ...this.#settings };
	}

	/**
	 * Changes the settings (stored at once, so the change outlives a reset even before the burst
	 * ends) and returns what everyone is told; `by` is a moderator's name or `API`.
	 */
	change(patch: SettingsPatch, by: string): Staged {
		this.#settings = { ...this.#settings, ...patch };
		this.#store.keep();
		this.#store.kv.put(SETTINGS_KEY, this.#settings);
		this.keepSweeping();
		return { kind: "settings", event: { type: "settings", settings: this.settings, by } };
	}

	/**
	 * Whether what a member does may go on now: `null`, or the refusal its sender gets. A new
	 * message (`send`) and an edit (new words too) meet every rule: a signed-mode user's one
	 * allowance across its connections, who may post, and slow mode; a reaction meets the
	 * allowance only (reacting stays open to everyone, as typing and reading do). Moderators are
	 * exempt from who may post and slow mode, and the HTTP API from all three. An admitted message
	 * or edit starts its sender's slow-mode interval.
	 */
	refusalOf(action: "send" | "edit" | "react", actor: Actor & Acting, now: number): ErrorEvent | null {
		if (actor.api) return null;
		const overAllowance = this.#takeAllowance(actor.userId, now);
		if (overAllowance > 0) {
			const message = `too many messages from your connections together: wait ${overAllowance} ms`;
			return refusal(actor, "rate_limited", message, overAllowance);
		}
		if (action === "react" || actor.role === "moderator") return null;
		if (this.#settings.postingRole === "moderators") {
			const what = action === "send" ? "post" : "edit messages";
			return refusal(actor, "posting_restricted", `only moderators may ${what} in this room`);
		}
		const interval = this.#settings.slowModeSeconds * 1000;
		if (interval === 0) return null;
		const key = actor.userId ?? actor.from;
		const last = this.#lastSend.get(key);
		if (last !== undefined && now - last < interval) {
			const retryAfterMs = last + interval - now;
			const seconds = this.#settings.slowModeSeconds;
			return refusal(
				actor,
				"slow_mode",
				`slow mode: one message per ${seconds} s; wait ${Math.ceil(retryAfterMs / 1000)} s`,
				retryAfterMs,
			);
		}
		if (this.#lastSend.size >= PRUNE_AT) {
			for (const [sender, at] of this.#lastSend) if (now - at >= interval) this.#lastSend.delete(sender);
		}
		this.#lastSend.set(key, now);
		return null;
	}

	/**
	 * Signed mode: takes one message from the user's shared allowance; 0 when taken, else how long
	 * until there is one (ms). Open mode (no user) and flood control off: always 0.
	 */
	#takeAllowance(userId: string | null, now: number): number {
		if (userId === null || this.#config.rateLimitMessages === 0) return 0;
		let bucket = this.#allowances.get(userId);
		if (!bucket) {
			if (this.#allowances.size >= PRUNE_AT) this.#pruneAllowances(now);
			bucket = newBucket(this.#config, now);
			this.#allowances.set(userId, bucket);
		}
		return takeOrWait(bucket, this.#config, now);
	}

	/** Lets go of allowances that have refilled (a user quiet for a window starts full anyway). */
	#pruneAllowances(now: number): void {
		const window = this.#config.rateLimitWindowSeconds * 1000;
		for (const [userId, bucket] of this.#allowances)
			if (now - bucket.updatedAt >= window) this.#allowances.delete(userId);
	}

	/** Messages stored before this time (ms) are past `retentionDays`; `null` when there is no limit by age. */
	retentionCutoff(now: number): number | null {
		return this.#settings.retentionDays === 0 ? null : now - this.#settings.retentionDays * DAY_MS;
	}

	/** While `retentionDays` is set, makes sure the object's alarm comes within `SWEEP_INTERVAL_MS`. */
	keepSweeping(): void {
		if (this.#settings.retentionDays === 0) return;
		alarmBy(this.#storage, Date.now() + SWEEP_INTERVAL_MS).catch((error: unknown) =>
			logEvent("storage_failed", { during: "retention_alarm", error: String(error) }),
		);
	}
}

/** What a refusal needs besides who acts: whether the HTTP API acts, and a send's `clientId`. */
interface Acting {
	readonly api?: boolean;
	readonly clientId?: string | null;
}

/** The refusal of what `actor` did: a send's with its `clientId` (to resend it), and when to try again if there is a wait. */
function refusal(actor: Acting, code: ErrorCode, message: string, retryAfterMs?: number): ErrorEvent {
	const error: ErrorEvent = { type: "error", code, message };
	if (retryAfterMs !== undefined) error.retryAfterMs = retryAfterMs;
	if (actor.clientId != null) error.clientId = actor.clientId;
	return error;
}
