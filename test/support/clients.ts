/**
 * Real WebSocket clients for the loopback tests (the `ws` package, as a Node user would write
 * them). Every wait is on an event, never on a timer.
 */
import type { Socket } from "node:net";
import WebSocket, { type RawData } from "ws";

/** One received frame: its payload and whether it came as a binary frame. */
export interface Frame {
	readonly data: Buffer;
	readonly isBinary: boolean;
	/** The payload as text. */
	readonly text: string;
}

/** A connected client with an inbox. */
export interface Client {
	readonly socket: WebSocket;
	/** Every frame received so far, in order. */
	readonly frames: Frame[];
	/** The next frame not yet taken. */
	next(): Promise<Frame>;
	/** Resolves once `count` frames in all have arrived. */
	waitForFrames(count: number): Promise<Frame[]>;
	/** Resolves with the close code and reason once the socket has closed. */
	readonly closed: Promise<{ code: number; reason: string }>;
}

/**
 * Waits that end once a condition holds: `when(ready)` resolves with the first value `ready`
 * returns other than `undefined`, checked again at every `recheck()` (a client's, on each frame).
 */
export function conditionWaits() {
	const listeners = new Set<() => void>();
	function when<T>(ready: () => T | undefined): Promise<T> {
		const value = ready();
		if (value !== undefined) return Promise.resolve(value);
		return new Promise((resolve) => {
			const listener = () => {
				const result = ready();
				if (result === undefined) return;
				listeners.delete(listener);
				resolve(result);
			};
			listeners.add(listener);
		});
	}
	const recheck = () => {
		for (const listener of [...listeners]) listener();
	};
	return { when, recheck };
}

function toBuffer(data: RawData): Buffer {
	if (Buffer.isBuffer(data)) return data;
	if (Array.isArray(data)) return Buffer.concat(data);
	return Buffer.from(data);
}

/** Opens a client to `url`, offering `protocols`, and resolves once it is open. */
export async function openClient(url: string, protocols: string[] = []): Promise<Client> {
	const socket = new WebSocket(url, protocols, { perMessageDeflate: false });
	const frames: Frame[] = [];
	const { when, recheck } = conditionWaits();
	let taken = 0;
	socket.on("message", (data, isBinary) => {
		const buffer = toBuffer(data);
		frames.push({ data: buffer, isBinary, text: buffer.toString("utf8") });
		recheck();
	});
	const closed = new Promise<{ code: number; reason: string }>((resolve) =>
		socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
	);
	await new Promise<void>((resolve, reject) => {
		socket.once("open", () => resolve());
		socket.once("error", reject);
		socket.once("unexpected-response", (_, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
	});
	return {
		socket,
		frames,
		closed,
		next: () => when(() => (taken < frames.length ? frames[taken++] : undefined)),
		waitForFrames: (count) => when(() => (frames.length >= count ? frames.slice(0, count) : undefined)),
	};
}

/**
 * Ends a client's TCP connection with a reset (RST) instead of a Close frame, as a crashed
 * client or a dropped network would: the server learns of it only from the runtime.
 */
export function resetConnection(socket: WebSocket): void {
	socket.on("error", () => {});
	(socket as unknown as { _socket: Socket })._socket.resetAndDestroy();
}
