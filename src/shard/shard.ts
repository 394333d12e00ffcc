import type { Batch, Push, Submission } from "../delivery.ts";
import { HubHost } from "../hub-host.ts";
import { logEvent } from "../log-event.ts";
import type { Room } from "../room.ts";
import { readPlacement, SHARD_FULL_HEADER } from "./placement.ts";

/** How long a shard waits before it tries the room again after a call to it failed. */
const RETRY_SUBMIT_MS = 1_000;
/**
 * The longest a closing connection waits for the room's answer to what it sent last (it is
 * closed then all the same: a quiet room may push nothing more for a while).
 */
const CLOSE_WAIT_MS = 2_000;

/** Where a shard belongs: its room's name and its own number there (kept in its storage). */
interface Home {
	readonly room: string;
	readonly shard: number;
}

/**
 * A shard: one more object of a room that has outgrown its own object (src/shard/placement.ts
 * says how sockets get here). It is the hub part of the room (src/hub-host.ts: sockets, checks,
 * flood control, outbox, fan-out, liveness) without the log or presence, which stay with the
 * room's object. Read as a story:
 *
 * 1. a client's frames are checked here and what needs the room is kept, in order (`take`);
 * 2. at the end of the burst it goes to the room in one call (`#submit`); the room orders,
 *    deduplicates and stores it with everything else;
 * 3. the room sends each burst's outcome back in one call (`deliver`), and the shard fans it out.
 *
 * The room's calls arrive in order, but a broken stub loses some: every push says the newest id
 * the room had stored before it (`Push.after`), the shard remembers the newest it delivered
 * (`lastId`, in storage so eviction keeps it), and on a jump it fetches what it missed before it
 * delivers on. A shard that cannot reach the room tells its clients; nothing is dropped unsaid.
 */
export class RoomShard extends HubHost {
	/** Its room and number, once the first upgrade has said them. */
	#home: Home | null;
	/** The newest message id delivered here (null: none yet; the first push sets it). */
	#lastId: number | null;
	/** The last push taken: which instance of the room's object sent it, and its number. */
	#lastPush: { sender: string; seq: number } | null = null;
	/** The stub every call to the room goes through (one stub keeps calls in order). */
	#room: DurableObjectStub<Room> | null = null;
	/** What its clients did this burst, for the room. */
	#submissions: Submission[] = [];
	/** The connection count last told to the room. */
	#reported = -1;
	/**
	 * Whether the room must be told every name held here: true when the object starts (it may
	 * have been reset, its sockets lost, and the room not know) and after a call failed.
	 */
	#resync = true;
	/** Whether a retry after a failed call is pending. */
	#retrying = false;
	/** Batches sent to the room so far, and how many of them it has taken (answered). */
	#batchesSent = 0;
	#batchesTaken = 0;
	/** The highest batch whose outcome has been delivered here (taken before a push came). */
	#batchesDelivered = 0;
	/** The last batch that carried something from each connection, by connection id. */
	readonly #lastBatchOf = new Map<string, number>();
	/** Connections to close once the outcome of their last batch is delivered, by id. */
	readonly #closing = new Map<string, { ws: WebSocket; code: number; reason: string; batch: number }>();

	/** Runs on first use and again each time the object wakes from hibernation or eviction. */
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#home = ctx.storage.kv.get<Home>("home") ?? null;
		this.#lastId = ctx.storage.kv.get<number>("lastId") ?? null;
		// Tell the room what this object holds now, before anything else.
		if (this.#home) this.setEndOfBurst();
	}

	// -- accept ----------------------------------------------------------------------------------

	/** An upgrade the Worker forwarded here on the room object's word. */
	override async fetch(request: Request): Promise<Response> {
		const placement = readPlacement(request);
		if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket" || !placement) {
			return new Response("a shard only takes upgrades forwarded by the Worker\n", { status: 400 });
		}
		if (!this.#home) {
			this.#home = placement;
			this.ctx.storage.kv.put("home", placement);
		}
		// An empty shard gets no pushes, so what it delivered last is stale: a newcomer's history
		// comes with its welcome, and the next push sets where delivery goes on from.
		if (this.hub.size === 0) this.#setLastId(null);
		if (this.hub.size >= this.config.shardSize) {
			return new Response("this part of the room is full; try again\n", {
				status: 503,
				headers: { "Retry-After": "1", [SHARD_FULL_HEADER]: String(this.#home.shard) },
			});
		}
		return this.upgrade(request, `${this.#home.shard}/`);
	}

	// -- to the room -----------------------------------------------------------------------------

	protected override take(submission: Submission): void {
		this.#submissions.push(submission);
	}

	protected override get hasWork(): boolean {
		return this.#submissions.length > 0 || this.hub.size !== this.#reported || (this.#resync && !this.#retrying);
	}

	/** Nothing to settle here before a close: the room stores; its answer comes when it comes. */
	protected override settle(): void {}

	/**
	 * On the room's own object, a connection is closed after the burst is settled, so it gets
	 * what it is owed (the echo of what it sent just before, a plain client's own text) ahead of
	 * the Close. Here the room answers in a later call: a connection whose last submission is
	 * still unanswered stops being read and is closed once that answer is delivered (or after
	 * `CLOSE_WAIT_MS`, or at once if the room cannot be reached).
	 */
	protected override closeConnection(ws: WebSocket, code: number, reason: string): void {
		const id = this.hub.stopReading(ws);
		// Closing already (the room decided first, then the client closed too): the first code stands.
		if (id !== undefined && this.#closing.has(id)) return;
		const pending = this.#submissions.some((submission) => answersSender(submission) && submission.from === id);
		const batch = pending ? this.#batchesSent + 1 : (id && this.#lastBatchOf.get(id)) || 0;
		if (id === undefined || batch <= this.#batchesDelivered) {
			this.#closeNow(id, ws, code, reason);
			return;
		}
		const closing = { ws, code, reason, batch };
		this.#closing.set(id, closing);
		setTimeout(() => {
			// Only this one, if it still waits: others have waits of their own.
			if (this.#closing.get(id) !== closing) return;
			this.#closeNow(id, ws, code, reason);
			this.afterEvent();
		}, CLOSE_WAIT_MS);
	}

	/** Closes the waiting connections whose last batch is at most `batch`. */
	#closeWaiting(batch: number): void {
		for (const [id, closing] of this.#closing) {
			if (closing.batch <= batch) this.#closeNow(id, closing.ws, closing.code, closing.reason);
		}
		this.afterEvent();
	}

	#closeNow(id: string | undefined, ws: WebSocket, code: number, reason: string): void {
		if (id !== undefined) {
			this.#closing.delete(id);
			this.#lastBatchOf.delete(id);
		}
		this.hub.close(ws, code, reason);
	}

	protected override endBurst(): void {
		this.#submit();
	}

	/**
	 * Sends the burst to the room in one call. Not awaited: calls on one stub arrive in order
	 * (E-order), so the next burst need not wait for this one.
	 */
	#submit(): void {
		if (!this.#home || !this.hasWork || this.#retrying) return;
		const batch: Batch = {
			shard: this.#home.shard,
			connections: this.hub.size,
			...(this.#resync ? { members: this.hub.members() } : {}),
			submissions: this.#submissions,
		};
		this.#submissions = [];
		this.#reported = batch.connections;
		this.#resync = false;
		const number = ++this.#batchesSent;
		for (const submission of batch.submissions) {
			if (answersSender(submission)) this.#lastBatchOf.set(submission.from, number);
		}
		this.#roomStub()
			.submit(batch)
			.then(
				() => {
					this.#batchesTaken = Math.max(this.#batchesTaken, number);
				},
				(error: unknown) => this.#unreachable(batch, number, error),
			);
	}

	/**
	 * A call to the room failed (its stub is now broken): what it carried may or may not have
	 * been taken. Senders are told their message may not be stored (they resend with the same
	 * `clientId`, which the room stores once); connections that were saying hello are closed
	 * with 1013 to try again; the room gets every name held here on the next call, a moment later.
	 */
	#unreachable(batch: Batch, number: number, error: unknown): void {
		logEvent("room_unreachable", { shard: batch.shard, submissions: batch.submissions.length, error: String(error) });
		this.#room = null;
		this.#resync = true;
		for (const submission of batch.submissions) {
			if (submission.kind === "send" || submission.kind === "edit" || submission.kind === "delete") {
				const clientId = submission.kind === "send" ? submission.clientId : null;
				this.hub.deliver([{ kind: "refused", clientId, to: submission.from }]);
			} else if (submission.kind === "kick" || submission.kind === "ban") {
				const error = {
					type: "error",
					code: "server_error",
					message: `the room could not be reached: ${submission.kind} again`,
				} as const;
				this.hub.deliver([{ kind: "error", to: submission.from, error }]);
			} else if (submission.kind === "hello") {
				this.hub.closeById(submission.from, 1013, "the room could not be reached; try again");
			}
		}
		// Nothing more will come for this batch: who waited on it to close is closed now.
		this.#closeWaiting(number);
		this.#retrying = true;
		setTimeout(() => {
			this.#retrying = false;
			this.afterEvent();
		}, RETRY_SUBMIT_MS);
		this.afterEvent();
	}

	#roomStub(): DurableObjectStub<Room> {
		if (!this.#room) {
			const { room } = this.#home as Home;
			this.#room = this.env.ROOMS.get(this.env.ROOMS.idFromName(room));
		}
		return this.#room;
	}

	// -- from the room ---------------------------------------------------------------------------

	/**
	 * One burst's outcome from the room, for this shard's connections; answers how many
	 * connections the shard holds (the room's count of it). If a push of the same room instance
	 * was lost, what it carried (welcomes, presence, kicks as well as messages) cannot be fetched:
	 * every client here is closed with 1012 to reconnect and resume, which gives each exactly what
	 * it missed. If it starts past the messages delivered here (the room's object restarted after
	 * a commit), the missing messages are fetched and delivered first; messages delivered already
	 * are skipped.
	 */
	async deliver(push: Push): Promise<number> {
		// The room answered these batches before it sent this push, so the push carries their outcome.
		const answered = this.#batchesTaken;
		const lost =
			this.#lastPush !== null && this.#lastPush.sender === push.sender && push.seq !== this.#lastPush.seq + 1;
		this.#lastPush = { sender: push.sender, seq: push.seq };
		if (lost && this.hub.size > 0) {
			logEvent("room_unreachable", { shard: this.#home?.shard, during: "push", lostBefore: push.seq });
			this.hub.closeAll(1012, "missed updates; reconnect and resume");
		}
		if (this.hub.size === 0) {
			// Nobody to deliver to: only where delivery goes on from.
			this.#setLastId(newestIdIn(push));
			this.afterEvent();
			return 0;
		}
		if (this.#lastId !== null && this.#lastId < push.after) {
			const from = this.#lastId;
			await this.ctx.blockConcurrencyWhile(() => this.#catchUp(from, push.after));
		}
		const lastId = this.#lastId ?? push.after;
		let newest = Math.max(lastId, push.after);
		const fresh = push.deliveries.filter((delivery) => {
			if (delivery.kind !== "message") return true;
			if (delivery.message.id <= lastId) return false;
			newest = Math.max(newest, delivery.message.id);
			return true;
		});
		this.hub.deliver(fresh);
		this.#setLastId(newest);
		this.#batchesDelivered = answered;
		if (this.#closing.size > 0) this.#closeWaiting(answered);
		this.afterEvent();
		return this.hub.size;
	}

	/**
	 * Fetches and delivers the messages stored after `since` up to `upTo`, which a lost push
	 * carried. Runs with other events held back, so nothing is delivered out of order. If the
	 * room cannot say, or some are no longer retained, every client here is closed with 1012:
	 * each reconnects and resumes from the last message it saw, and gets exactly what it missed
	 * (or is told of the gap).
	 */
	async #catchUp(since: number, upTo: number): Promise<void> {
		try {
			const { messages, gap } = await this.#roomStub().messagesBetween(since, upTo);
			this.hub.deliver(messages.map((message) => ({ kind: "message", message })));
			if (gap) this.hub.closeAll(1012, "missed messages; reconnect and resume");
		} catch (error) {
			logEvent("room_unreachable", { shard: this.#home?.shard, during: "catch-up", error: String(error) });
			this.#room = null;
			this.hub.closeAll(1012, "missed messages; reconnect and resume");
		}
		this.#setLastId(upTo);
	}

	#setLastId(id: number | null): void {
		if (id === this.#lastId) return;
		this.#lastId = id;
		if (id === null) this.ctx.storage.kv.delete("lastId");
		else this.ctx.storage.kv.put("lastId", id);
	}
}

/** The newest log id a push carries, or what it comes after. */
function newestIdIn(push: Push): number {
	let newest = push.after;
	for (const delivery of push.deliveries)
		if (delivery.kind === "message") newest = Math.max(newest, delivery.message.id);
	return newest;
}

/**
 * Whether the room's answer to a submission goes back to its sender (a welcome, an echo or a
 * plain client's own text or binary frame, a refusal), which a closing connection waits for.
 */
function answersSender(
	submission: Submission,
): submission is Extract<Submission, { kind: "hello" | "send" | "frame" | "edit" | "delete" }> {
	return ["hello", "send", "frame", "edit", "delete"].includes(submission.kind);
}
