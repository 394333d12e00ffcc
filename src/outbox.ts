/**
 * Coalescing for rich connections. Per-frame cost in workerd is several times Node's (SPEC.md),
 * so the room does not send one frame per event: it queues each encoded event for its
 * recipients and, once the current burst of work is done (a zero-delay timer, which runs after
 * the input events already waiting), sends each recipient one frame: the event itself, or a
 * `batch` of all its events in order (PROTOCOL.md).
 *
 * Every event is encoded once. Recipients whose queues hold the same events (the usual case:
 * everyone got the same broadcasts) share one batch string, built once per flush.
 *
 * The flush is also the end of the room's burst: `beforeFlush` runs first (the room stores the
 * burst's messages there and queues their broadcasts).
 */
export class Outbox {
	readonly #queues = new Map<WebSocket, string[]>();
	readonly #onSendFailed: (ws: WebSocket) => void;
	readonly #beforeFlush: () => void;
	#scheduled = false;

	/**
	 * `onSendFailed` learns of sockets that could not be sent to (closing or gone);
	 * `beforeFlush` runs at the start of every flush, and may queue more.
	 */
	constructor(onSendFailed: (ws: WebSocket) => void, beforeFlush: () => void = () => {}) {
		this.#onSendFailed = onSendFailed;
		this.#beforeFlush = beforeFlush;
	}

	/** Queues one encoded event for every recipient but `except`. */
	broadcast(frame: string, recipients: Iterable<WebSocket>, except?: WebSocket): void {
		for (const ws of recipients) if (ws !== except) this.#queue(ws).push(frame);
		this.schedule();
	}

	/** Queues one encoded event for one socket, after everything already queued for it. */
	unicast(ws: WebSocket, frame: string): void {
		this.#queue(ws).push(frame);
		this.schedule();
	}

	/** Sends what is queued for one socket right now (before the room closes it). */
	flushOne(ws: WebSocket): void {
		const queue = this.#queues.get(ws);
		this.#queues.delete(ws);
		if (queue?.length && !trySend(ws, encode(queue))) this.#onSendFailed(ws);
	}

	/** Drops whatever is queued for a socket that is gone. */
	forget(ws: WebSocket): void {
		this.#queues.delete(ws);
	}

	/** Makes sure a flush comes once the current work is done, even if nothing is queued yet. */
	schedule(): void {
		if (this.#scheduled) return;
		this.#scheduled = true;
		setTimeout(() => this.flush(), 0);
	}

	/** Runs `beforeFlush`, then sends every queued event: one frame per recipient. */
	flush(): void {
		this.#scheduled = false;
		this.#beforeFlush();
		const failed: WebSocket[] = [];
		let lastQueue: string[] | null = null;
		let lastFrame = "";
		for (const [ws, queue] of this.#queues) {
			// Consecutive recipients usually hold the very same events: reuse the frame built for the last one.
			if (lastQueue === null || !sameEvents(queue, lastQueue)) {
				lastQueue = queue;
				lastFrame = encode(queue);
			}
			if (!trySend(ws, lastFrame)) failed.push(ws);
		}
		this.#queues.clear();
		for (const ws of failed) this.#onSendFailed(ws);
	}

	#queue(ws: WebSocket): string[] {
		let queue = this.#queues.get(ws);
		if (!queue) {
			queue = [];
			this.#queues.set(ws, queue);
		}
		return queue;
	}
}

/** One event as it is, several as a batch. */
function encode(queue: string[]): string {
	return queue.length === 1 ? (queue[0] as string) : `{"type":"batch","events":[${queue.join(",")}]}`;
}

/** Whether two queues hold the same encoded events (compared by identity: each event is encoded once). */
function sameEvents(a: string[], b: string[]): boolean {
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
	return true;
}

/**
 * Sends a frame, reporting false instead of throwing when the socket is closing or gone (its
 * close or error event follows; it must not cost anyone else a message).
 */
export function trySend(ws: WebSocket, frame: string | ArrayBuffer): boolean {
	try {
		ws.send(frame);
		return true;
	} catch {
		return false;
	}
}
