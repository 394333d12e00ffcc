/**
 * The room's policies: its settings (PROTOCOL.md, "Room settings"), kept in the room's storage
 * and changed by moderators or the HTTP API, and the one place that applies them to a new
 * message: who may post (`postingRole`) and how often (`slowModeSeconds`). Retention by age is
 * applied by the log (src/room/message-log.ts `dropOlderThan`) at the room's alarm, which this
 * part keeps due within `SWEEP_INTERVAL_MS` while `retentionDays` is set.
 *
 * Slow mode counts per user in signed mode (all of a user's tabs and shards share one interval)
 * and per connection in open mode, where nothing ties two connections to one person. The times
 * are kept in memory: after the room's object is reset, each sender's next message is admitted.
 */

import { logEvent } from "../log-event.ts";
import type { ErrorEvent, RoomSettings, SettingsPatch } from "../wire/protocol.ts";
import { DEFAULT_SETTINGS } from "../wire/protocol.ts";
import type { Submission } from "../wire/rpc.ts";
import type { Staged } from "./burst.ts";

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
	readonly #kv: SyncKvStorage;
	#settings: RoomSettings;
	/** When each sender's last message was admitted under slow mode (ms), by user id or connection. */
	readonly #lastSend = new Map<string, number>();

	/** Reads the settings kept in the room's storage (a room that never changed them has the defaults). */
	constructor(storage: DurableObjectStorage) {
		this.#storage = storage;
		this.#kv = storage.kv;
		this.#settings = { ...DEFAULT_SETTINGS, ...this.#kv.get<Partial<RoomSettings>>(SETTINGS_KEY) };
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
		this.#kv.put(SETTINGS_KEY, this.#settings);
		this.keepSweeping();
		return { kind: "settings", event: { type: "settings", settings: this.settings, by } };
	}

	/**
	 * Whether a new message may be posted now: `null`, or the refusal its sender gets. Moderators
	 * and the HTTP API are exempt from both rules. An admitted message starts its sender's interval.
	 */
	refusalOf(send: Extract<Submission, { kind: "send" }>, now: number): ErrorEvent | null {
		if (send.api || send.role === "moderator") return null;
		const clientId = send.clientId === null ? {} : { clientId: send.clientId };
		if (this.#settings.postingRole === "moderators") {
			return {
				type: "error",
				code: "posting_restricted",
				message: "only moderators may post in this room",
				...clientId,
			};
		}
		const interval = this.#settings.slowModeSeconds * 1000;
		if (interval === 0) return null;
		const key = send.userId ?? send.from;
		const last = this.#lastSend.get(key);
		if (last !== undefined && now - last < interval) {
			const retryAfterMs = last + interval - now;
			const message = `slow mode: one message per ${this.#settings.slowModeSeconds} s; wait ${Math.ceil(retryAfterMs / 1000)} s`;
			return { type: "error", code: "slow_mode", message, retryAfterMs, ...clientId };
		}
		if (this.#lastSend.size >= PRUNE_AT) {
			for (const [sender, at] of this.#lastSend) if (now - at >= interval) this.#lastSend.delete(sender);
		}
		this.#lastSend.set(key, now);
		return null;
	}

	/** Messages stored before this time (ms) are past `retentionDays`; `null` when there is no limit by age. */
	retentionCutoff(now: number): number | null {
		return this.#settings.retentionDays === 0 ? null : now - this.#settings.retentionDays * DAY_MS;
	}

	/** While `retentionDays` is set, makes sure the object's alarm comes within `SWEEP_INTERVAL_MS`. */
	keepSweeping(): void {
		if (this.#settings.retentionDays === 0) return;
		const due = Date.now() + SWEEP_INTERVAL_MS;
		void (async () => {
			const set = await this.#storage.getAlarm();
			if (set === null || set > due) await this.#storage.setAlarm(due);
		})().catch((error: unknown) => logEvent("storage_failed", { during: "retention_alarm", error: String(error) }));
	}
}
