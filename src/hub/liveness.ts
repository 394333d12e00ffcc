/**
 * Liveness: finding connections that hold a place in the room and say nothing. A rich client
 * sends a heartbeat ping every 30 s (answered by the runtime without waking the room); a rich
 * connection heard nothing from for `HEARTBEAT_TIMEOUT_SECONDS` is taken for a peer that vanished
 * without a FIN or RST (1001 `no heartbeat`). Plain clients have no heartbeat in the tutorial's
 * protocol, so a plain connection is closed only once it has sent nothing for
 * `PLAIN_IDLE_TIMEOUT_SECONDS` (an hour by default; 1001 `idle: …`): a public room cannot be held
 * full by sockets that opened and went quiet. The sweep that finds both runs from the object's
 * alarm, kept pending every half of the shorter timeout that applies while such connections
 * exist, so a silent one is gone within 1.5 x its timeout (135 s for a rich one by default).
 */
import { type AlarmStorage, alarmBy } from "./alarm.ts";
import type { Connection } from "./connection.ts";

/** Keeps the sweep alarm going and judges who is silent. */
export class Liveness {
	readonly #storage: AlarmStorage;
	readonly #richMs: number;
	readonly #plainMs: number;
	/** Whether this instance knows the alarm is pending (then no storage round trip per connect). */
	#pending = false;

	/** A timeout of 0 seconds turns that sweep off. */
	constructor(storage: AlarmStorage, heartbeatSeconds: number, plainIdleSeconds: number) {
		this.#storage = storage;
		this.#richMs = heartbeatSeconds * 1000;
		this.#plainMs = plainIdleSeconds * 1000;
	}

	/** The alarm has fired (or was dropped with the object's storage): it is no longer pending. */
	alarmFired(): void {
		this.#pending = false;
	}

	/** Makes sure a sweep is due within half the shorter timeout of the connections held (`rich`, `plain`: any held). */
	async keepSweeping(rich: boolean, plain: boolean): Promise<void> {
		const timeouts = [rich ? this.#richMs : 0, plain ? this.#plainMs : 0].filter((ms) => ms > 0);
		if (timeouts.length === 0 || this.#pending) return;
		await alarmBy(this.#storage, Date.now() + Math.min(...timeouts) / 2);
		this.#pending = true;
	}

	/**
	 * Whether a connection has been silent for longer than its timeout at `now`. "Heard from" is
	 * the latest of: its connect, its last frame (in memory, and in the attachment's flood-control
	 * bucket when that is on), and `lastPong`, the runtime's last automatic answer to its ping,
	 * which records heartbeats answered while the room hibernated.
	 */
	isSilent(connection: Connection, lastPong: number, now: number): boolean {
		const timeout = connection.mode === "rich" ? this.#richMs : this.#plainMs;
		if (timeout === 0) return false;
		const heardFrom = Math.max(connection.connectedAt, connection.bucket.updatedAt, connection.lastFrameAt, lastPong);
		return now - heardFrom > timeout;
	}
}
