/**
 * Test-side WebSocket helpers for the workerd tests: open a client socket to a room through
 * the real Worker, and wait for frames and closes as events (never sleeps).
 */
import { exports } from "cloudflare:workers";

/** A client socket with an inbox of everything it has received, in order. */
export interface TestClient {
	readonly socket: WebSocket;
	/** Every frame received so far. */
	readonly received: (string | ArrayBuffer)[];
	/** Resolves with the next frame not yet taken by an earlier `next()`. */
	next(): Promise<string | ArrayBuffer>;
	/** Resolves with the close event once the socket has closed. */
	readonly closed: Promise<CloseEvent>;
}

/** Opens a socket to `room` through the Worker's fetch handler, as a browser would. */
export async function connect(room: string): Promise<TestClient> {
	const response = await exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket`, {
		headers: { Upgrade: "websocket" },
	});
	const socket = response.webSocket;
	if (response.status !== 101 || !socket) {
		throw new Error(`expected 101 with a socket, got ${response.status}: ${await response.text()}`);
	}
	socket.accept();
	// From compatibility date 2026-03-17 (`websocket_standard_binary_type`) binary frames arrive
	// as Blob unless asked otherwise; the tests compare bytes synchronously.
	socket.binaryType = "arraybuffer";
	const received: (string | ArrayBuffer)[] = [];
	const waiters: ((frame: string | ArrayBuffer) => void)[] = [];
	let taken = 0;
	socket.addEventListener("message", (event) => {
		const frame = event.data instanceof ArrayBuffer ? event.data : String(event.data);
		received.push(frame);
		const waiter = waiters.shift();
		if (waiter) {
			taken++;
			waiter(frame);
		}
	});
	const closed = new Promise<CloseEvent>((resolve) => socket.addEventListener("close", resolve));
	return {
		socket,
		received,
		closed,
		next() {
			if (taken < received.length) return Promise.resolve(received[taken++] as string | ArrayBuffer);
			return new Promise((resolve) => waiters.push(resolve));
		},
	};
}
