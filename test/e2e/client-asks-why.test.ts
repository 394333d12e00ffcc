/**
 * When the client library asks the server why an upgrade failed (public/client/connection.js):
 * a first connection asks at once (a ban, a wrong token must be heard), but one that was open
 * and dropped, as every socket is by a deploy, asks only from its fourth retry on, so a room's
 * clients do not send the server a burst of questions the moment it is back. Between the client
 * and a real server (miniflare) stands a loopback TCP proxy that can refuse every connection, as
 * a server that is down does, and counts what each attempt was: an upgrade or a plain GET.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { type Chat, connect } from "edgechat/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, startMiniflare } from "../../scripts/local-server.ts";
import { freshRoom } from "../support/room-names.ts";

/** A TCP proxy that passes connections to `target`, or (while `down`) closes them after reading what they asked. */
class CountingProxy {
	readonly server: Server;
	readonly attempts: ("upgrade" | "get")[] = [];
	down = false;
	readonly #open = new Set<Socket>();

	constructor(targetPort: number) {
		this.server = createServer((client) => {
			this.#open.add(client);
			client.on("close", () => this.#open.delete(client));
			client.on("error", () => {});
			client.once("data", (head) => {
				this.attempts.push(/^upgrade:\s*websocket/im.test(String(head)) ? "upgrade" : "get");
				if (this.down) return void client.destroy();
				const upstream = tcpConnect(targetPort, "127.0.0.1", () => upstream.write(head));
				upstream.on("error", () => client.destroy());
				client.on("close", () => upstream.destroy());
				upstream.on("close", () => client.destroy());
				client.pipe(upstream);
				upstream.pipe(client);
			});
		});
	}

	listen(): Promise<number> {
		return new Promise((resolve) =>
			this.server.listen(0, "127.0.0.1", () => resolve((this.server.address() as { port: number }).port)),
		);
	}

	/** Drops every connection and refuses the next ones, as a deploy's restart does. */
	goDown(): void {
		this.down = true;
		for (const socket of this.#open) socket.destroy();
	}
}

/** Resolves when `chat` has gone through `count` more `waiting` states (failed attempts). */
function failures(chat: Chat, count: number): Promise<void> {
	return new Promise((resolve) => {
		let seen = 0;
		const stop = chat.on("state", ({ state }) => {
			if (state !== "waiting" || ++seen < count) return;
			stop();
			resolve();
		});
	});
}

describe("the client library asking why an upgrade failed", () => {
	let server: LocalServer;
	let proxy: CountingProxy;
	let url: string;
	beforeAll(async () => {
		server = await startMiniflare();
		proxy = new CountingProxy(Number(new URL(server.origin).port));
		url = `http://127.0.0.1:${await proxy.listen()}`;
	});
	afterAll(async () => {
		proxy.server.close();
		await server.stop();
	});

	it("a connection that was open and dropped retries without asking, and asks from its fourth retry", async () => {
		proxy.down = false;
		const chat = connect({ url, room: freshRoom("asks-after-drop"), name: "ada" });
		try {
			await new Promise<void>((resolve) => {
				const stop = chat.on("welcome", () => {
					stop();
					resolve();
				});
			});
			const before = proxy.attempts.length;
			// The drop, then three failed retries: none of them asks.
			const dropAndThree = failures(chat, 4);
			const dropAndFour = failures(chat, 5);
			proxy.goDown();
			await dropAndThree;
			expect(proxy.attempts.slice(before)).toEqual(["upgrade", "upgrade", "upgrade"]);
			// The fourth retry fails too, and it asks.
			await dropAndFour;
			expect(proxy.attempts.slice(before)).toEqual(["upgrade", "upgrade", "upgrade", "upgrade", "get"]);
		} finally {
			chat.close();
		}
	}, 30_000);

	it("a first connection asks at once", async () => {
		proxy.goDown();
		const before = proxy.attempts.length;
		const chat = connect({ url, room: freshRoom("asks-at-once"), name: "bob" });
		try {
			await failures(chat, 1);
			expect(proxy.attempts.slice(before)).toEqual(["upgrade", "get"]);
		} finally {
			chat.close();
		}
	});
});
