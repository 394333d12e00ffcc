/**
 * Liveness: finding peers that vanished without a FIN or RST. A rich client sends a heartbeat
 * ping every 30 s (answered by the runtime without waking the room); a rich connection heard
 * nothing from for `HEARTBEAT_TIMEOUT_SECONDS` is taken for dead. The sweep that finds them runs
 * from the object's alarm, kept pending every half timeout while rich connections exist, so a
 * dead peer is gone within 1.5 x the timeout (135 s by default). Plain clients have no
 * heartbeat in the tutorial's protocol and are never swept.
 */
import { type AlarmStorage, alarmBy } from "./alarm.ts";
import type { Connection } from "./connection.ts";

/** Keeps the sweep alarm going and judges who is silent. */
export class Liveness {
	readonly #storage: AlarmStorage;
	readonly #timeoutMs: number;
	/** Whether this instance knows the alarm is pending (then no storage round trip per connect). */
	#pending = false;

	/** `timeoutSeconds` 0 turns liveness off. */
	constructor(storage: AlarmStorage, timeoutSeconds: number) {
		this.#storage = storage;
		this.#timeoutMs = timeoutSeconds * 1000;
	}

	/** The alarm has fired: it is no longer pending. */
	alarmFired(): void {
		this.#pending = false;
	}

	/** Makes sure a sweep is due within half a timeout, while `needed` (rich connections exist). */
	async keepSweeping(needed: boolean): Promise<void> {
		if (this.#timeoutMs === 0 || !needed || this.#pending) return;
		await alarmBy(this.#storage, Date.now() + this.#timeoutMs / 2);
		this.#pending = true;
	}

	/**
	 * Whether a rich connection has been silent for longer than the timeout at `now`. "Heard
	 * from" is the latest of: its connect, its last frame (in memory, and in the attachment's
	 * flood-control bucket when that is on), and `lastPong`, the runtime's last automatic answer
	 * to its ping, which records heartbeats answered while the room hibernated.
	 */
	isSilent(connection: Connection, lastPong: number, now: number): boolean {
		if (this.#timeoutMs === 0 || connection.mode !== "rich") return false;
		const heardFrom = Math.max(connection.connectedAt, connection.bucket.updatedAt, connection.lastFrameAt, lastPong);
		return now - heardFrom > this.#timeoutMs;
	}
}
