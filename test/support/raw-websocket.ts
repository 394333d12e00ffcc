/**
 * A deliberately minimal RFC 6455 client over `node:net`, for tests that must send what a
 * well-behaved WebSocket library never would: broken handshakes, reserved bits and opcodes,
 * bad close codes, invalid UTF-8, frames cut into small chops. It parses what the server sends
 * back frame by frame, and every wait is on socket events (with a bounded timeout that reports
 * what was seen), never on a sleep.
 */
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

/** Frame opcodes (RFC 6455 section 5.2). */
export const Opcode = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** A frame as received from the server. */
export interface Frame {
	readonly fin: boolean;
	readonly rsv: number;
	readonly opcode: number;
	readonly masked: boolean;
	readonly payload: Buffer;
}

/** What a frame to send looks like; everything but the opcode has the well-formed default. */
export interface OutgoingFrame {
	opcode: number;
	payload?: Buffer | string;
	fin?: boolean;
	/** The three reserved bits, as a number 0 to 7. */
	rsv?: number;
	/** Clients must mask (RFC 6455 5.3); false sends an unmasked frame. */
	mask?: boolean;
	/** Write the frame in pieces of this many bytes, each its own write. */
	chop?: number;
}

/** The server's answer to the opening handshake. */
export interface HandshakeResponse {
	readonly status: number;
	readonly headers: Record<string, string>;
	/** The body, for a refused upgrade (what was received before the server closed). */
	readonly body: string;
}

/** Encodes one frame. */
export function encodeFrame(frame: OutgoingFrame): Buffer {
	const payload = typeof frame.payload === "string" ? Buffer.from(frame.payload) : (frame.payload ?? Buffer.alloc(0));
	const mask = frame.mask ?? true;
	const length = payload.length;
	const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
	const head = Buffer.alloc(2 + lengthBytes + (mask ? 4 : 0));
	head[0] = ((frame.fin ?? true) ? 0x80 : 0) | ((frame.rsv ?? 0) << 4) | frame.opcode;
	head[1] = (mask ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
	if (lengthBytes === 2) head.writeUInt16BE(length, 2);
	if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(length), 2);
	if (!mask) return Buffer.concat([head, payload]);
	const key = randomBytes(4);
	key.copy(head, 2 + lengthBytes);
	const masked = Buffer.alloc(length);
	for (let i = 0; i < length; i++) masked[i] = (payload[i] as number) ^ (key[i % 4] as number);
	return Buffer.concat([head, masked]);
}

/** A close frame's payload: a code and an optional reason (or raw bytes for bad reasons). */
export function closePayload(code: number, reason: string | Buffer = ""): Buffer {
	const codeBytes = Buffer.alloc(2);
	codeBytes.writeUInt16BE(code);
	return Buffer.concat([codeBytes, typeof reason === "string" ? Buffer.from(reason) : reason]);
}

/** Reads the code of a received close frame (undefined when it carried none). */
export function closeCode(frame: Frame): number | undefined {
	return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined;
}

/** One raw connection. */
export class RawWebSocket {
	readonly #socket: Socket;
	#buffer = Buffer.alloc(0);
	readonly #frames: Frame[] = [];
	#ended = false;
	#protocolError: string | null = null;
	readonly #listeners = new Set<() => void>();

	private constructor(socket: Socket, leftover: Buffer) {
		this.#socket = socket;
		socket.on("data", (chunk) => this.#onData(chunk));
		const end = () => {
			this.#ended = true;
			this.#notify();
		};
		socket.on("end", end);
		socket.on("close", end);
		socket.on("error", end);
		if (leftover.length > 0) this.#onData(leftover);
	}

	/**
	 * Opens a TCP connection and sends an opening handshake. `headers` replace the defaults (a
	 * header set to `null` is left out), so broken handshakes can be sent on purpose.
	 */
	static async open(
		origin: string,
		path: string,
		headers: Record<string, string | null> = {},
		method = "GET",
	): Promise<{ response: HandshakeResponse; ws: RawWebSocket | null }> {
		const { hostname, port } = new URL(origin);
		const socket = connect({ host: hostname, port: Number(port) });
		socket.setNoDelay(true);
		await new Promise<void>((resolve, reject) => {
			socket.once("connect", resolve);
			socket.once("error", reject);
		});
		const all: Record<string, string | null> = {
			Host: `${hostname}:${port}`,
			Upgrade: "websocket",
			Connection: "Upgrade",
			"Sec-WebSocket-Key": randomBytes(16).toString("base64"),
			"Sec-WebSocket-Version": "13",
			...headers,
		};
		const lines = [`${method} ${path} HTTP/1.1`];
		for (const [name, value] of Object.entries(all)) if (value !== null) lines.push(`${name}: ${value}`);
		socket.write(`${lines.join("\r\n")}\r\n\r\n`);

		const { head, rest, ended } = await readHead(socket);
		const [statusLine = "", ...headerLines] = head.split("\r\n");
		const status = Number(statusLine.split(" ")[1]);
		const responseHeaders: Record<string, string> = {};
		for (const line of headerLines) {
			const colon = line.indexOf(":");
			if (colon > 0) responseHeaders[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
		}
		if (status !== 101) {
			const body = ended ? rest : Buffer.concat([rest, await readBody(socket, responseHeaders, rest.length)]);
			socket.destroy();
			return { response: { status, headers: responseHeaders, body: body.toString() }, ws: null };
		}
		return { response: { status, headers: responseHeaders, body: "" }, ws: new RawWebSocket(socket, rest) };
	}

	/** Sends one frame (in chops if asked), resolving once written. */
	async send(frame: OutgoingFrame): Promise<void> {
		const bytes = encodeFrame(frame);
		const chop = frame.chop ?? bytes.length;
		for (let at = 0; at < bytes.length; at += chop) {
			if (this.#socket.destroyed) return;
			await new Promise<void>((resolve) => this.#socket.write(bytes.subarray(at, at + chop), () => resolve()));
		}
	}

	/** Sends raw bytes as they are. */
	async sendBytes(bytes: Buffer): Promise<void> {
		await new Promise<void>((resolve) => this.#socket.write(bytes, () => resolve()));
	}

	/**
	 * The next frame from the server, or `null` once the TCP connection has ended with no more
	 * frames. Rejects after `timeoutMs` (the test then fails with what was seen).
	 */
	async nextFrame(timeoutMs = 5_000): Promise<Frame | null> {
		await this.#until(() => this.#frames.length > 0 || this.#ended, timeoutMs, "a frame");
		if (this.#protocolError) throw new Error(this.#protocolError);
		return this.#frames.shift() ?? null;
	}

	/** Reads frames until a close frame (returned) or the end of the connection (`null`). */
	async nextClose(timeoutMs = 5_000): Promise<Frame | null> {
		for (;;) {
			const frame = await this.nextFrame(timeoutMs);
			if (frame === null || frame.opcode === Opcode.close) return frame;
		}
	}

	/** Resolves once the server has ended the TCP connection. */
	async ended(timeoutMs = 5_000): Promise<void> {
		await this.#until(() => this.#ended, timeoutMs, "the connection to end");
	}

	/** Whether the TCP connection has ended. */
	get isEnded(): boolean {
		return this.#ended;
	}

	/** Ends the connection from this side. */
	destroy(): void {
		this.#socket.destroy();
	}

	#onData(chunk: Buffer): void {
		this.#buffer = Buffer.concat([this.#buffer, chunk]);
		for (;;) {
			const frame = this.#parse();
			if (!frame) break;
			this.#frames.push(frame);
		}
		this.#notify();
	}

	#parse(): Frame | null {
		const b = this.#buffer;
		if (b.length < 2) return null;
		const first = b[0] as number;
		const second = b[1] as number;
		let length = second & 0x7f;
		let offset = 2;
		if (length === 126) {
			if (b.length < 4) return null;
			length = b.readUInt16BE(2);
			offset = 4;
		} else if (length === 127) {
			if (b.length < 10) return null;
			length = Number(b.readBigUInt64BE(2));
			offset = 10;
		}
		const masked = (second & 0x80) !== 0;
		if (masked) this.#protocolError = "server sent a masked frame (RFC 6455 5.1 forbids it)";
		const start = offset + (masked ? 4 : 0);
		if (b.length < start + length) return null;
		const payload = Buffer.from(b.subarray(start, start + length));
		if (masked) {
			const key = b.subarray(offset, offset + 4);
			for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (key[i % 4] as number);
		}
		this.#buffer = b.subarray(start + length);
		return { fin: (first & 0x80) !== 0, rsv: (first >> 4) & 0x7, opcode: first & 0x0f, masked, payload };
	}

	#notify(): void {
		for (const listener of [...this.#listeners]) listener();
	}

	#until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
		if (done()) return Promise.resolve();
		return new Promise((resolve, reject) => {
			const listener = () => {
				if (!done()) return;
				clearTimeout(timer);
				this.#listeners.delete(listener);
				resolve();
			};
			const timer = setTimeout(() => {
				this.#listeners.delete(listener);
				reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; frames so far: ${this.#frames.length}`));
			}, timeoutMs);
			this.#listeners.add(listener);
		});
	}
}

/** Reads an HTTP response head; returns it, the bytes after it, and whether the socket ended. */
function readHead(socket: Socket): Promise<{ head: string; rest: Buffer; ended: boolean }> {
	return new Promise((resolve, reject) => {
		let buffer = Buffer.alloc(0);
		const timer = setTimeout(() => finish(new Error(`no HTTP response head: ${buffer.toString()}`)), 10_000);
		const onData = (chunk: Buffer) => {
			buffer = Buffer.concat([buffer, chunk]);
			const end = buffer.indexOf("\r\n\r\n");
			if (end >= 0) finish(null, buffer.subarray(0, end).toString(), buffer.subarray(end + 4), false);
		};
		const onEnd = () => {
			const end = buffer.indexOf("\r\n\r\n");
			if (end >= 0) finish(null, buffer.subarray(0, end).toString(), buffer.subarray(end + 4), true);
			else finish(new Error(`connection ended before a response: ${JSON.stringify(buffer.toString())}`));
		};
		function finish(error: Error | null, head = "", rest = Buffer.alloc(0), ended = false) {
			clearTimeout(timer);
			socket.off("data", onData);
			socket.off("end", onEnd);
			socket.off("error", onEnd);
			if (error) reject(error);
			else resolve({ head, rest, ended });
		}
		socket.on("data", onData);
		socket.on("end", onEnd);
		socket.on("error", onEnd);
	});
}

/** Reads the rest of a response body (by Content-Length, or until the socket ends). */
function readBody(socket: Socket, headers: Record<string, string>, alreadyRead: number): Promise<Buffer> {
	const length = headers["content-length"];
	const expected = length === undefined ? Number.POSITIVE_INFINITY : Number(length) - alreadyRead;
	return new Promise((resolve) => {
		let body = Buffer.alloc(0);
		const timer = setTimeout(() => done(), 5_000);
		const onData = (chunk: Buffer) => {
			body = Buffer.concat([body, chunk]);
			if (body.length >= expected) done();
		};
		function done() {
			clearTimeout(timer);
			socket.off("data", onData);
			socket.off("end", done);
			resolve(body);
		}
		if (expected <= 0) return done();
		socket.on("data", onData);
		socket.on("end", done);
	});
}
