import { logEvent } from "../deployment/log-event.ts";
import type { Connection } from "../hub/connection.ts";
import { HubHost } from "../hub/host.ts";
import { type Close, closeFor } from "../wire/close-codes.ts";
import { isWebSocketUpgrade, refuse, tooManyConnections, upgradeRequired } from "../wire/http.ts";
import { addressOf, holderKey, holderOf, identityOf } from "../wire/identity.ts";
import { PLACED_HEADER, type Placement, readPlacement, SHARD_FULL_HEADER } from "../wire/placement.ts";
import type { Batch, Delivery, Push, Submission } from "../wire/rpc.ts";
import { Pushes } from "./pushes.ts";

/** How long a shard waits before it tries the room again after a call to it failed. */
const RETRY_SUBMIT_MS = 1_000;
/**
 * The longest a closing connection waits for the push that answers what it sent last
 * (`Push.answers`). It comes within the room's next burst; this bounds only the cases where it
 * never comes (a lost push the ring no longer holds, a room object of an older version that
 * does not name the batches it answers). From a Close to its answer took at most 74 ms in the
 * fuzz suite's sharded run with three busy-looping processes on this 2-core machine.
 */
const CLOSE_WAIT_MS = 10_000;
/**
 * A shard: one more object of a room that has outgrown its own object (src/wire/placement.ts
 * says how sockets get here). It is the hub half of the room (src/hub/: sockets, checks, flood
 * control, coalescer, fan-out, liveness) without the log or presence, which stay with the room's
 * object. Read as a story:
 *
 * 1. a client's frames are checked here and what needs the room is kept, in order (`take`);
 * 2. at the end of the burst it goes to the room in one call (`#submit`); the room orders,
 *    deduplicates and stores it with everything else;
 * 3. the room sends each burst's outcome back in one call (`deliver`), and the shard fans it out.
 *
 * The room's calls arrive in order, but a failed call breaks the stub and loses one: pushes are
 * numbered per room instance, the shard keeps the last number it delivered (in storage), and on
 * a jump it fetches the missed pushes from the room's ring (`Room.missedPushes`); a push from a
 * new room instance that starts past the newest message delivered here fetches those messages
 * (`Room.messagesBetween`). A shard that cannot reach the room tells its clients; nothing is
 * dropped unsaid.
 */
export class RoomShard extends HubHost {
	/** Its room and number, once the first upgrade has said them. */
	#home: Placement | null;
	/** What the room pushes, in order, with what a lost push needs fetched first. */
	readonly #pushes: Pushes;
	/** The stub every call to the room goes through (one stub keeps calls in order). */
	#room: ReturnType<Env["ROOMS"]["get"]> | null = null;
	/** What its clients did this burst, for the room. */
	#submissions: Submission[] = [];
	/** The connection count last told to the room. */
	#reported: number;
	/**
	 * Whether it took an upgrade since it last told the room its count. The room counts a place it
	 * handed out at once, so the shard's next word must come even when the socket has gone again
	 * by then (the count back where it was): else the room would count it for good.
	 */
	#took = false;
	/** Whether the room must be told every name held here (after a reset or a failed call). */
	#resync: boolean;
	/** Whether a retry after a failed call is pending. */
	#retrying = false;
	/** The least time between two batches, as the room's answer to the last one asked (src/room/shard-links.ts `submitPace`). */
	#pace = 0;
	/** When the next batch may go, and the timer that ends a burst then if one waits meanwhile. */
	#nextSubmitAt = 0;
	#paceTimer: ReturnType<typeof setTimeout> | null = null;
	/** Batches sent to the room so far (each numbered: `Batch.number`). */
	#batchesSent = 0;

	/**
	 * Runs on first use and again each time the object wakes from hibernation or eviction. An
	 * eviction keeps every socket, and the room's record of them is right: nothing is sent to
	 * the room for it (a liveness alarm waking an idle shard costs the room nothing). A reset
	 * loses every socket: a shard that starts with none tells the room, which may still count
	 * some here.
	 */
	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#home = ctx.storage.kv.get<Placement>("home") ?? null;
		this.#pushes = new Pushes(ctx.storage, this.hub, env.ROOMS, () => this.#home);
		this.#reported = this.hub.size;
		this.#resync = this.hub.size === 0;
		if (this.#home && this.#resync) this.setEndOfBurst();
	}

	// -- accept ----------------------------------------------------------------------------------

	/** An upgrade the Worker forwarded here on the room object's word (only the Worker sends these). */
	override async fetch(request: Request): Promise<Response> {
		if (!isWebSocketUpgrade(request)) return upgradeRequired();
		const placement = readPlacement(request);
		if (!placement) return refuse(400, "a shard only takes upgrades forwarded by the Worker");
		if (!this.#home) {
			this.#home = placement;
			this.ctx.storage.kv.put("home", placement);
		}
		// An empty shard gets no pushes, so what it delivered last is stale: a newcomer's history
		// comes with its welcome, and the next push sets where delivery goes on from.
		if (this.hub.size === 0) this.#pushes.restart();
		if (this.hub.size >= this.config.shardSize) {
			return refuse(503, "this object of the room is full; try again", {
				"Retry-After": "1",
				[SHARD_FULL_HEADER]: String(this.#home.shard),
			});
		}
		if (request.headers.has(PLACED_HEADER)) {
			const refusal = this.#overHolderLimit(request);
			if (refusal) return refusal;
		}
		this.#took = true;
		return this.upgrade(request, `${this.#home.shard}/`);
	}

	/**
	 * An upgrade the Worker placed by itself (src/wire/placement.ts): the limits per user and per
	 * address the room's object would have checked. The Worker sends one user's (one address's)
	 * upgrades to one shard, so the sockets here tagged with it are all of them, give or take the
	 * room's own object's and those placed before the room grew by a shard.
	 */
	#overHolderLimit(request: Request): Response | null {
		const identity = identityOf(request);
		const address = identity ? null : addressOf(request);
		const limit = identity ? this.config.maxConnectionsPerUser : this.config.maxConnectionsPerAddress;
		const holder = holderOf(identity, address);
		const tag = holder && holderKey(holder);
		if (tag === null || limit === 0 || this.ctx.getWebSockets(tag).length < limit) return null;
		return tooManyConnections(identity ? "user" : "address", limit);
	}

	// -- to the room -----------------------------------------------------------------------------

	protected override take(submission: Submission): void {
		this.#submissions.push(submission);
	}

	protected override get hasWork(): boolean {
		// While the room's pace holds the next batch back, its timer ends the burst.
		if (this.#paceTimer !== null) return false;
		const moved = this.hub.size !== this.#reported || this.#took;
		return this.#submissions.length > 0 || moved || (this.#resync && !this.#retrying);
	}

	protected override get answeredBatch(): number {
		return this.#pushes.answered;
	}

	/**
	 * On the room's own object, a closing connection gets the burst's answers before its Close.
	 * Here the room answers in a later call: a connection whose last submission is unanswered is
	 * closed once the push naming its batch is delivered (`deliver`), or after `CLOSE_WAIT_MS`, or
	 * at once if the room cannot be reached.
	 */
	protected override closeConnection(ws: WebSocket, close: Close): Connection | undefined {
		const connection = super.closeConnection(ws, close);
		if (!connection) return undefined;
		const pending = this.#submissions.some((item) => answersSender(item) && item.from === connection.id);
		if (pending) connection.awaitAnswer(this.#batchesSent + 1);
		if (connection.lastBatch > this.#pushes.answered) {
			setTimeout(() => {
				this.hub.closeNow(connection);
				this.afterEvent();
			}, CLOSE_WAIT_MS);
		}
		return connection;
	}

	protected override endBurst(): void {
		this.#submit();
	}

	/**
	 * Sends the burst to the room in one call, or, sooner than the room's pace allows after the
	 * last one, keeps gathering until then. Not awaited: calls on one stub arrive in order
	 * (E-order), so the next burst need not wait for this one.
	 */
	#submit(): void {
		if (!this.#home || !this.hasWork || this.#retrying) return;
		const wait = this.#nextSubmitAt - Date.now();
		if (wait > 0) {
			this.#paceTimer = setTimeout(() => {
				this.#paceTimer = null;
				this.setEndOfBurst();
			}, wait);
			return;
		}
		const sentAt = Date.now();
		this.#nextSubmitAt = sentAt + this.#pace;
		const number = ++this.#batchesSent;
		const batch: Batch = {
			room: this.#home.room,
			shard: this.#home.shard,
			number,
			connections: this.hub.size,
			...(this.#resync ? { members: this.hub.members() } : {}),
			submissions: this.#submissions,
		};
		this.#submissions = [];
		this.#reported = batch.connections;
		this.#took = false;
		this.#resync = false;
		for (const submission of batch.submissions) {
			if (answersSender(submission)) this.hub.awaitAnswer(submission.from, number);
		}
		this.#roomStub()
			.submit(batch)
			.then(
				(pace) => {
					// The room's answer is its word on this batch's pace too (none from a room object
					// of an older version, met during a gradual deploy: no pace).
					this.#pace = typeof pace === "number" && pace > 0 ? pace : 0;
					this.#nextSubmitAt = Math.max(this.#nextSubmitAt, sentAt + this.#pace);
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
		const refusals: Delivery[] = [];
		for (const submission of batch.submissions) {
			if (submission.kind === "send" || submission.kind === "edit" || submission.kind === "delete") {
				const clientId = submission.kind === "send" ? submission.clientId : null;
				refusals.push({ kind: "refused", clientId, to: submission.from });
			} else if (["kick", "ban", "history", "react", "reactors"].includes(submission.kind)) {
				const message = `the room could not be reached: ${submission.kind} again`;
				refusals.push({ kind: "error", to: submission.from, error: { type: "error", code: "server_error", message } });
			} else if (submission.kind === "hello") {
				this.hub.closeById(submission.from, closeFor("roomUnreachable"));
			}
		}
		this.hub.deliver(refusals);
		// Nothing more will come for this batch: who waited on it to close is closed now.
		this.hub.closeAnswered(number);
		this.#retrying = true;
		setTimeout(() => {
			this.#retrying = false;
			this.afterEvent();
		}, RETRY_SUBMIT_MS);
		this.afterEvent();
	}

	#roomStub(): ReturnType<Env["ROOMS"]["get"]> {
		if (!this.#room) {
			const { room } = this.#home as Placement;
			this.#room = this.env.ROOMS.get(this.env.ROOMS.idFromName(room));
		}
		return this.#room;
	}

	// -- from the room ---------------------------------------------------------------------------

	/**
	 * One burst's outcome from the room, for this shard's connections; answers how many
	 * connections the shard holds (the room's count of it). Pushes are delivered one after the
	 * other, each after any catch-up the one before it needed (src/shard/pushes.ts); then the
	 * connections closing on the answers it carried are closed.
	 */
	async deliver(push: Push): Promise<number> {
		await this.#pushes.take(push);
		this.hub.closeAnswered(this.#pushes.answered);
		this.afterEvent();
		return this.hub.size;
	}
}

/** The submissions the room answers to their sender, which a closing connection waits for. */
const ANSWERED = new Set(["hello", "send", "frame", "edit", "delete", "history", "react", "reactors"]);

/**
 * Whether the room's answer to a submission goes back to its sender (a welcome, an echo or a
 * plain client's own text or binary frame, a history page, a refusal only the room can give),
 * which a closing connection waits for. (The fuzz suite found a history page lost to a Close
 * that did not wait for it.)
 */
function answersSender(
	submission: Submission,
): submission is Extract<
	Submission,
	{ kind: "hello" | "send" | "frame" | "edit" | "delete" | "history" | "react" | "reactors" }
> {
	return ANSWERED.has(submission.kind);
}
