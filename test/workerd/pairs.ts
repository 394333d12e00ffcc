/**
 * In-memory WebSocketPairs for testing the hub's parts without a Durable Object's sockets: the
 * server end wrapped as a hub `Connection`, the client end collecting what it receives.
 */
import { Connection, type Session } from "../../src/hub/connection.ts";

/** One pair: the hub's side (`server`, `connection`) and what its client has received. */
export interface OpenPair {
	readonly server: WebSocket;
	readonly client: WebSocket;
	readonly connection: Connection;
	/** Every frame the client has received (binary frames as ArrayBuffer). */
	readonly received: (string | ArrayBuffer)[];
	/** Resolves with the first `count` frames once that many have arrived. */
	frames(count: number): Promise<(string | ArrayBuffer)[]>;
	/** Resolves with the client's close event. */
	readonly closed: Promise<CloseEvent>;
}

/** Opens a pair whose server end is a connection with `session` (a joined rich one by default). */
export function openPair(session: Partial<Session> = {}): OpenPair {
	const { 0: client, 1: server } = new WebSocketPair();
	server.accept();
	client.accept();
	client.binaryType = "arraybuffer";
	const received: (string | ArrayBuffer)[] = [];
	const waiters: (() => void)[] = [];
	client.addEventListener("message", (event) => {
		received.push(event.data instanceof ArrayBuffer ? event.data : String(event.data));
		for (const waiter of waiters.splice(0)) waiter();
	});
	const closed = new Promise<CloseEvent>((resolve) => client.addEventListener("close", resolve));
	const frames = (count: number) =>
		new Promise<(string | ArrayBuffer)[]>((resolve) => {
			const check = () => (received.length >= count ? resolve(received.slice(0, count)) : waiters.push(check));
			check();
		});
	const connection = new Connection(
		server,
		{
			id: crypto.randomUUID(),
			mode: "rich",
			name: "someone",
			identity: null,
			connectedAt: Date.now(),
			bucket: { tokens: 1, updatedAt: 0, strikes: 0, strikesSince: 0 },
			...session,
		},
		new Set(),
	);
	return { server, client, connection, received, frames, closed };
}
