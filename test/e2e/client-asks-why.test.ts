/**
 * When the client library asks the server why an upgrade failed (public/client/connection.js):
 * a first connection asks at once (a ban, a wrong token must be heard), but one that was open
 * and dropped, as every socket is by a deploy, asks only from its fourth retry on, so a room's
 * clients do not send the server a burst of questions the moment it is back. Between the client
 * and a real server (miniflare) stands a loopback TCP proxy that can refuse every connection, as
 * a server that is down does, and counts what each attempt was: an upgrade or a plain GET. In
 * signed mode it also keeps what each request said and what the server answered, which shows
 * that the token is in no URL the library requests, and never comes back in the `101`; and the
 * deployment's logs, as wrangler.toml sets them, keep no request's URL or headers.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import path from "node:path";
import { type Chat, connect } from "edgechat/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import WebSocket from "ws";
import { type LocalServer, ROOT, startMiniflare } from "../../scripts/local-server.ts";
import { freshRoom } from "../support/room-names.ts";
import { signToken, TEST_SECRET } from "../support/tokens.ts";

/** A TCP proxy that passes connections to `target`, or (while `down`) closes them after reading what they asked. */
class CountingProxy {
	readonly server: Server;
	readonly attempts: ("upgrade" | "get")[] = [];
	/**
	 * Every request head (request line and headers) of every connection, in order of arrival,
	 * those on a connection kept alive for another request too.
	 */
	readonly requests: string[] = [];
	/** The head of each passed connection's first answer, in order of arrival. */
	readonly responses: string[] = [];
	/** Everything the server sent back, on every connection (latin1). */
	answered = "";
	down = false;
	readonly #open = new Set<Socket>();

	constructor(targetPort: number) {
		this.server = createServer((client) => {
			this.#open.add(client);
			client.on("close", () => this.#open.delete(client));
			client.on("error", () => {});
			client.on("data", this.#headsOf());
			client.once("data", (head) => {
				this.attempts.push(/^upgrade:\s*websocket/im.test(String(head)) ? "upgrade" : "get");
				if (this.down) return void client.destroy();
				const upstream = tcpConnect(targetPort, "127.0.0.1", () => upstream.write(head));
				upstream.once("data", (answer) => this.responses.push(headOf(answer)));
				upstream.on("data", (answer: Buffer) => {
					this.answered += answer.toString("latin1");
				});
				upstream.on("error", () => client.destroy());
				client.on("close", () => upstream.destroy());
				upstream.on("close", () => client.destroy());
				client.pipe(upstream);
				upstream.pipe(client);
			});
		});
	}

	/**
	 * A reader of one connection's requests into `requests`, whatever chunks they come in, up to
	 * an upgrade (frames follow it, no more requests).
	 */
	#headsOf(): (chunk: Buffer) => void {
		let pending = "";
		let upgraded = false;
		return (chunk) => {
			if (upgraded) return;
			pending += chunk.toString("latin1");
			for (let end = pending.indexOf("\r\n\r\n"); end !== -1 && !upgraded; end = pending.indexOf("\r\n\r\n")) {
				const head = pending.slice(0, end);
				pending = pending.slice(end + 4);
				this.requests.push(head);
				upgraded = /^upgrade:\s*websocket/im.test(head);
			}
		};
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

/** The head of an HTTP answer (all of it arrives in its first chunk on loopback: these are small). */
function headOf(chunk: Buffer): string {
	const text = chunk.toString("latin1");
	const end = text.indexOf("\r\n\r\n");
	return end === -1 ? text : text.slice(0, end);
}

/** Resolves with the first `state` change of `chat` that `match` accepts. */
function stateWhen(chat: Chat, match: (change: { state: string; code?: number; reason?: string }) => boolean) {
	return new Promise<{ state: string; code?: number; reason?: string }>((resolve) => {
		const stop = chat.on("state", (change) => {
			if (!match(change)) return;
			stop();
			resolve(change);
		});
	});
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

describe("the client library in signed mode: the token in no URL", () => {
	let server: LocalServer;
	let proxy: CountingProxy;
	let url: string;
	beforeAll(async () => {
		server = await startMiniflare({ vars: { AUTH_SECRET: TEST_SECRET } });
		proxy = new CountingProxy(Number(new URL(server.origin).port));
		url = `http://127.0.0.1:${await proxy.listen()}`;
	});
	afterAll(async () => {
		proxy.server.close();
		await server.stop();
	});

	/**
	 * The requests the proxy saw from `before` on: their request lines (method, path and query),
	 * and the heads of the upgrades and of the plain GETs (asking why).
	 */
	const seen = (before: number) => {
		const heads = proxy.requests.slice(before);
		const isUpgrade = (head: string) => /^upgrade:\s*websocket/im.test(head);
		return {
			lines: new Set(heads.map((head) => head.split("\r\n")[0])),
			upgrades: heads.filter(isUpgrade),
			asks: heads.filter((head) => !isUpgrade(head)),
		};
	};
	/** The `Sec-WebSocket-Protocol` line of a signed-mode upgrade (the header's name in any case). */
	const offering = (token: string) =>
		new RegExp(`^sec-websocket-protocol: edgechat\\.v1, edgechat\\.token\\.${token}$`, "im");

	it("offers the token as a subprotocol: the room selects edgechat.v1 alone, and no URL carries it", async () => {
		const room = freshRoom("signed-no-url");
		const token = await signToken({ sub: "u-ada", name: "Ada", room, role: "member" });
		const before = proxy.requests.length;
		const answered = proxy.responses.length;
		const sent = proxy.answered.length;
		const chat = connect({ url, room, token });
		try {
			await new Promise<void>((resolve) => {
				const stop = chat.on("welcome", () => {
					stop();
					resolve();
				});
			});
			expect(chat.userId).toBe("u-ada");
			const { lines, upgrades, asks } = seen(before);
			expect(lines).toEqual(new Set([`GET /api/rooms/${room}/websocket HTTP/1.1`]));
			expect(upgrades).toHaveLength(1);
			expect(upgrades[0]).toMatch(offering(token));
			expect(asks).toEqual([]);
			const [response] = proxy.responses.slice(answered);
			expect(response).toMatch(/^HTTP\/1\.1 101 /);
			expect(response).toMatch(/^sec-websocket-protocol: edgechat\.v1$/im);
			// Nothing the server sent, the 101 and the welcome included, has the token in it.
			expect(proxy.answered.slice(sent)).not.toContain(token);
		} finally {
			chat.close();
		}
	});

	it("asks why with the token as Bearer, and closes with the reason: a ban (403), a token the server refuses (401)", async () => {
		const room = freshRoom("signed-asks-why");
		// A moderator's script bans eve, who is not connected.
		const moderator = new WebSocket(server.socketUrl(room), [
			"edgechat.v1",
			`edgechat.token.${await signToken({ sub: "u-mod", name: "Mod", room, role: "moderator" })}`,
		]);
		const removed = new Promise<void>((resolve) =>
			moderator.on("message", (data) => {
				if (String(data).includes('"removed"')) resolve();
			}),
		);
		await new Promise((resolve) => moderator.once("open", resolve));
		moderator.send(JSON.stringify({ type: "hello" }));
		moderator.send(JSON.stringify({ type: "ban", userId: "u-eve", seconds: 600 }));
		await removed;
		moderator.close();

		const refusals = [
			[await signToken({ sub: "u-eve", name: "Eve", room, role: "member" }), 403, /^banned until \S+$/],
			// Two days: past TOKEN_MAX_LIFETIME_SECONDS as shipped; the library cannot know, the server says.
			[
				await signToken({
					sub: "u-sam",
					name: "Sam",
					room,
					role: "member",
					exp: Math.floor(Date.now() / 1000) + 2 * 86_400,
				}),
				401,
				/^token lives too long: exp is more than 86400 s away$/,
			],
		] as const;
		for (const [token, code, reason] of refusals) {
			const before = proxy.requests.length;
			const chat = connect({ url, room, token });
			try {
				const closed = await stateWhen(chat, ({ state }) => state === "closed");
				expect(closed.code).toBe(code);
				expect(closed.reason).toMatch(reason);
				// No URL with the token: the upgrade offered it, and the question carried it as Bearer.
				const { lines, upgrades, asks } = seen(before);
				expect(lines).toEqual(new Set([`GET /api/rooms/${room}/websocket HTTP/1.1`]));
				expect(upgrades.length).toBeGreaterThan(0);
				for (const upgrade of upgrades) expect(upgrade).toMatch(offering(token));
				expect(asks).toHaveLength(1);
				expect(asks[0]).toMatch(new RegExp(`^authorization: Bearer ${token}$`, "im"));
			} finally {
				chat.close();
			}
		}
	});
});

describe("the deployment's logs", () => {
	it("keep the room's own lines but no request's URL or headers: invocation logs off, query strings cut", () => {
		const { observability } = unstable_readConfig({ config: path.join(ROOT, "wrangler.toml") });
		expect(observability).toMatchObject({ enabled: true, redact_query_string: true, logs: { invocation_logs: false } });
		expect(observability?.logs?.enabled).not.toBe(false);
	});
});
