/**
 * Test-side WebSocket helpers for the workerd tests: open a client socket to a room through
 * the real Worker, and wait for frames and closes as events (never sleeps).
 */
import { exports } from "cloudflare:workers";
import { PING, SUBPROTOCOL } from "../../public/contract.js";
import type { LogEntry } from "../../src/wire/log-entries.ts";
import type { ServerEvent, SingleServerEvent, WelcomeEvent } from "../../src/wire/protocol.ts";

/** The text of a history entry (a message or an edit; a delete has none). */
export function textOf(entry: LogEntry): string | null {
	return "text" in entry ? entry.text : null;
}

/** A client socket with an inbox of everything it has received, in order. */
export interface TestClient {
	readonly socket: WebSocket;
	/** The `Sec-WebSocket-Protocol` the server selected (null for none). */
	readonly protocol: string | null;
	/** Every frame received so far. */
	readonly received: (string | ArrayBuffer)[];
	/** Resolves with the next frame not yet taken by an earlier `next()`. */
	next(): Promise<string | ArrayBuffer>;
	/** Resolves with the close event once the socket has closed. */
	readonly closed: Promise<CloseEvent>;
}

/** Opens a socket to `room` through the Worker's fetch handler, as a browser would. */
export async function connect(
	room: string,
	protocols?: string,
	token?: string,
	extraHeaders: Record<string, string> = {},
): Promise<TestClient> {
	const headers: Record<string, string> = { Upgrade: "websocket", ...extraHeaders };
	if (protocols !== undefined) headers["Sec-WebSocket-Protocol"] = protocols;
	const query = token === undefined ? "" : `?token=${token}`;
	const response = await exports.default.fetch(`http://chat.test/api/rooms/${room}/websocket${query}`, { headers });
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
		protocol: response.headers.get("Sec-WebSocket-Protocol"),
		received,
		closed,
		next() {
			if (taken < received.length) return Promise.resolve(received[taken++] as string | ArrayBuffer);
			return new Promise((resolve) => waiters.push(resolve));
		},
	};
}

/** A rich (edgechat.v1) client: events in, events out. */
export interface RichClient {
	readonly raw: TestClient;
	/** The welcome it got for its hello. */
	readonly welcome: WelcomeEvent;
	/** The next event (batches are unpacked, in order). */
	nextEvent(): Promise<SingleServerEvent>;
	/** Events until one of `type` arrives; resolves with that one. */
	nextOf<T extends SingleServerEvent["type"]>(type: T): Promise<Extract<SingleServerEvent, { type: T }>>;
	/** Sends one event (or any raw JSON value, for bad-input tests). */
	send(event: unknown): void;
	/** Sends a chat message and resolves with the stored message as echoed back. */
	say(text: string, clientId?: string): Promise<Extract<SingleServerEvent, { type: "message" }>>;
	/** Sends a ping and resolves with the reply frame. */
	ping(): Promise<string>;
	close(): Promise<CloseEvent>;
}

/** Opens a rich connection without saying hello. */
export async function connectRichRaw(room: string, token?: string) {
	const raw = await connect(room, SUBPROTOCOL, token);
	const pending: SingleServerEvent[] = [];
	async function nextEvent(): Promise<SingleServerEvent> {
		while (pending.length === 0) {
			const frame = await raw.next();
			if (typeof frame !== "string") throw new Error("rich client got a binary frame");
			const event = JSON.parse(frame) as ServerEvent;
			pending.push(...(event.type === "batch" ? event.events : [event]));
		}
		return pending.shift() as SingleServerEvent;
	}
	return { raw, nextEvent };
}

let messageCounter = 0;

/** Opens a rich connection and joins as `name` (resuming after `since` when given). */
export async function connectRich(room: string, name: string, since?: number, token?: string): Promise<RichClient> {
	const { raw, nextEvent } = await connectRichRaw(room, token);
	raw.socket.send(JSON.stringify(since === undefined ? { type: "hello", name } : { type: "hello", name, since }));
	const first = await nextEvent();
	if (first.type !== "welcome") throw new Error(`expected welcome, got ${JSON.stringify(first)}`);
	async function nextOf<T extends SingleServerEvent["type"]>(type: T) {
		for (;;) {
			const event = await nextEvent();
			if (event.type === type) return event as Extract<SingleServerEvent, { type: T }>;
		}
	}
	return {
		raw,
		welcome: first,
		nextEvent,
		nextOf,
		send: (event) => raw.socket.send(JSON.stringify(event)),
		async say(text, clientId = `m${++messageCounter}`) {
			raw.socket.send(JSON.stringify({ type: "send", clientId, text }));
			for (;;) {
				const event = await nextOf("message");
				if (event.clientId === clientId) return event;
			}
		},
		async ping() {
			raw.socket.send(PING);
			return String(await raw.next());
		},
		close() {
			raw.socket.close(1000, "bye");
			return raw.closed;
		},
	};
}

/**
 * A room spread over objects of three connections (the shards projects' `SHARD_SIZE`): three rich
 * members on the room's own object, then `others` on shard 1, joined in turn.
 */
export async function roomOf(room: string, ...others: string[]): Promise<{ here: RichClient[]; there: RichClient[] }> {
	const here: RichClient[] = [];
	for (const name of ["ann", "bob", "cat"]) here.push(await connectRich(room, name));
	const there: RichClient[] = [];
	for (const name of others) there.push(await connectRich(room, name));
	return { here, there };
}

/** The next `count` messages a client gets, as `id text`; fails at once if it is closed instead. */
export async function nextMessages(client: RichClient, count: number): Promise<string[]> {
	const closed = client.raw.closed.then(({ code, reason }) => {
		throw new Error(`closed with ${code} ${reason} before ${count} messages`);
	});
	const got: string[] = [];
	while (got.length < count) {
		const message = await Promise.race([client.nextOf("message"), closed]);
		got.push(`${message.id} ${message.text}`);
	}
	return got;
}
