/**
 * A session on the V8 inspector of edgechat's isolate in a local workerd (miniflare's
 * `inspectorPort`): the Worker and its Durable Objects run in that one isolate. Used by the CPU
 * profiler (bench/profile.ts) and the heap measurement (bench/heap.ts).
 */
import WebSocket from "ws";

/** The user worker's isolate as miniflare's inspector names it. */
const TARGET = "core:user:edgechat";

/** One inspector session. */
export class Inspector {
	readonly #ws: WebSocket;
	#nextId = 0;

	private constructor(ws: WebSocket) {
		this.#ws = ws;
	}

	/** Opens a session on the edgechat isolate of the workerd whose inspector listens on `port`. */
	static async open(port: number): Promise<Inspector> {
		const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { id: string }[];
		if (!targets.some((target) => target.id === TARGET)) throw new Error(`no inspector target ${TARGET}`);
		const ws = new WebSocket(`ws://127.0.0.1:${port}/${TARGET}`);
		await new Promise((resolve, reject) => {
			ws.once("open", resolve);
			ws.once("error", reject);
		});
		return new Inspector(ws);
	}

	/** Sends one command and resolves with its result (events in between are ignored). */
	call<T>(method: string, params: object = {}): Promise<T> {
		const id = ++this.#nextId;
		return new Promise((resolve, reject) => {
			const onMessage = (data: WebSocket.RawData) => {
				const message = JSON.parse(String(data)) as { id?: number; result?: T; error?: { message: string } };
				if (message.id !== id) return;
				this.#ws.off("message", onMessage);
				if (message.error) reject(new Error(`${method}: ${message.error.message}`));
				else resolve(message.result as T);
			};
			this.#ws.on("message", onMessage);
			this.#ws.send(JSON.stringify({ id, method, params }));
		});
	}

	close(): void {
		this.#ws.close();
	}
}
