/**
 * The client library (`edgechat/client`, public/client/) driven from Node against `wrangler dev`,
 * the server `npm start` runs: resume and resend through a restart of the whole server (and, on
 * miniflare, a resume from far back that catches up over many pages), refusals
 * as rejected sends, a kicked client that stays closed, and the terminal client built on it
 * (`npm run chat`) end to end.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { type Chat, connect } from "edgechat/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type LocalServer, ROOT, startMiniflare, startWranglerDev } from "../../scripts/local-server.ts";
import type { ChatMessage } from "../../src/wire/log-entries.ts";
import { joinRich } from "../support/rich-client.ts";
import { freshRoom } from "../support/room-names.ts";
import { signToken, TEST_SECRET } from "../support/tokens.ts";

/** Every log id a client has been handed (welcome histories and live messages), in order. */
function seenIds(chat: Chat): number[] {
	const ids: number[] = [];
	chat.on("welcome", ({ welcome }) => {
		for (const entry of welcome.history) ids.push(entry.id);
	});
	chat.on("message", (message) => ids.push(message.id));
	return ids;
}

/** Resolves once `chat` has been welcomed (now or later). */
function welcomed(chat: Chat): Promise<void> {
	if (chat.joined) return Promise.resolve();
	return new Promise((resolve) => {
		const stop = chat.on("welcome", () => {
			stop();
			resolve();
		});
	});
}

/** Resolves once `check` holds, tested after every event `chat` hears. */
function until(chat: Chat, check: () => boolean): Promise<void> {
	return new Promise((resolve) => {
		const stops: (() => void)[] = [];
		const test = () => {
			if (!check()) return;
			for (const stop of stops) stop();
			resolve();
		};
		for (const type of ["welcome", "message", "join", "leave", "state"] as const) stops.push(chat.on(type, test));
		test();
	});
}

/**
 * The terminal client as `npm run chat` starts it (as ada, or as `who` says), with its stdout as
 * lines and its exit status.
 */
function terminal(
	origin: string,
	room: string,
	who: string[] = ["--name", "ada"],
): { child: ChildProcessWithoutNullStreams; lines: string[]; exited: Promise<number | null> } {
	const child = spawn(
		path.join(ROOT, "node_modules/.bin/node"),
		["scripts/chat.ts", "--url", origin, "--room", room, ...who],
		{ cwd: ROOT },
	);
	const lines: string[] = [];
	createInterface({ input: child.stdout }).on("line", (line) => lines.push(line));
	const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
	return { child, lines, exited };
}

/**
 * Resolves once `check` holds, tested after every chunk of `child`'s stdout (its lines are read
 * from each chunk by a listener added before this one).
 */
function untilOutput(child: ChildProcessWithoutNullStreams, check: () => boolean): Promise<void> {
	return new Promise((resolve) => {
		const test = () => {
			if (!check()) return;
			child.stdout.off("data", test);
			resolve();
		};
		child.stdout.on("data", test);
		test();
	});
}

describe("the client library through a restart of wrangler dev", () => {
	let persistDir: string;
	beforeAll(async () => {
		persistDir = await mkdtemp(path.join(tmpdir(), "edgechat-client-"));
	});
	afterAll(() => rm(persistDir, { recursive: true, force: true }));

	it("stores every message sent before, during and after the restart exactly once, and every client sees every id once", async () => {
		const port = await freePort();
		const room = freshRoom("library-restart");
		// Flood control off: three clients send 12 messages each in a few bursts (it is tested below).
		const vars = { RATE_LIMIT_MESSAGES: "0" };
		let server: LocalServer = await startWranglerDev({ port, persistDir, vars });
		const names = ["ada", "bob", "cy"];
		const chats = names.map((name) => connect({ url: server.origin, room, name }));
		const ids = chats.map(seenIds);
		try {
			await Promise.all(chats.map(welcomed));
			const sends: Promise<ChatMessage>[] = [];
			const say = (round: string) => {
				for (const [i, chat] of chats.entries()) {
					for (let n = 0; n < 3; n++) sends.push(chat.send(`${names[i]} ${round} ${n}`));
				}
			};
			say("before");
			await Promise.all(sends);
			// Sent just before the server goes: some may be stored, some not; none is acknowledged yet.
			say("as it stops");
			await server.stop();
			await Promise.all(chats.map((chat) => until(chat, () => chat.state === "waiting")));
			// Sent while it is down: they wait.
			say("while down");
			server = await startWranglerDev({ port, persistDir, vars });
			// Back online: no need to sit out the rest of the backoff (the page does the same).
			for (const chat of chats) chat.open();
			say("after");
			const stored = await Promise.all(sends);
			const storedIds = stored.map((message) => message.id);
			expect(new Set(storedIds).size).toBe(36);
			expect([...storedIds].sort((a, b) => a - b)).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
			for (const [i, chat] of chats.entries()) {
				await until(chat, () => (ids[i] as number[]).length >= 36);
				expect(ids[i]).toEqual([...new Set(ids[i])]);
				expect([...(ids[i] as number[])].sort((a, b) => a - b)).toEqual(Array.from({ length: 36 }, (_, n) => n + 1));
			}
			const stats = (await (await fetch(`${server.origin}/api/rooms/${room}`)).json()) as { latestId: number };
			expect(stats.latestId).toBe(36);
		} finally {
			for (const chat of chats) chat.close();
			await server.stop();
		}
	}, 120_000);
});

describe("the client library against wrangler.toml as shipped", () => {
	let server: LocalServer;
	beforeAll(async () => {
		server = await startWranglerDev();
	});
	afterAll(() => server.stop());

	it("rejects a send the room refuses with the refusal's code (too long), and paces a burst past the allowance instead of having it refused", async () => {
		const chat = connect({ url: server.origin, room: freshRoom("library-refusals"), name: "ada" });
		const waiting: number[] = [];
		chat.on("waiting", ({ frames }) => waiting.push(frames));
		const refusals: string[] = [];
		chat.on("error", (error) => refusals.push(error.code));
		try {
			await welcomed(chat);
			expect(chat.allowance).toEqual({ messages: 10, windowSeconds: 10, bucket: 5 });
			const tooLong = chat.send("x".repeat(chat.messageCap + 1));
			await expect(tooLong).rejects.toMatchObject({ name: "ChatError", code: "text_too_long" });
			// RATE_LIMIT_BUCKET is 5 and every frame counts, the refused one above too: four go at
			// once, the other eight wait their turn (one a second) instead of being refused.
			const burst = Array.from({ length: 12 }, (_, i) => chat.send(`burst ${i}`));
			expect(waiting[0]).toBe(1);
			const stored = await Promise.all(burst);
			expect(stored.map((message) => message.text)).toEqual(Array.from({ length: 12 }, (_, i) => `burst ${i}`));
			expect(new Set(stored.map((message) => message.id)).size).toBe(12);
			expect(waiting.at(-1)).toBe(0);
			expect(Math.max(...waiting)).toBe(8);
			expect(refusals).toEqual([]);
			expect(chat.pendingCount).toBe(0);
			expect(chat.state).toBe("open");
		} finally {
			chat.close();
		}
	}, 30_000);
});

describe("npm run chat against wrangler.toml as shipped", () => {
	let server: LocalServer;
	beforeAll(async () => {
		server = await startWranglerDev();
	});
	afterAll(() => server.stop());

	it("posts 20 piped lines, past the allowance, each once and in order, and exits 0", async () => {
		const room = freshRoom("terminal-pipe");
		const { child, exited } = terminal(server.origin, room, ["--name", "ci"]);
		child.stdin.end(`${Array.from({ length: 20 }, (_, i) => `burst line ${i + 1}`).join("\n")}\n`);
		expect(await exited).toBe(0);
		const reader = connect({ url: server.origin, room, name: "reader" });
		const seen: string[] = [];
		reader.on("welcome", ({ welcome }) => {
			for (const entry of welcome.history) if (!("kind" in entry)) seen.push(`${entry.name}: ${entry.text}`);
		});
		try {
			await welcomed(reader);
			expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `ci: burst line ${i + 1}`));
		} finally {
			reader.close();
		}
	}, 60_000);
});

/**
 * A WebSocket for the library that a test can unplug, as a network does: the socket closes (the
 * room sees the client leave), but the library hears nothing of it, neither frames nor the close,
 * until `plugBack`; then it hears the close and reconnects, resuming after what it last saw.
 */
function unpluggableWebSocket() {
	let current: Unpluggable | null = null;
	class Unpluggable extends WebSocket {
		unplugged = false;
		readonly closeListeners: ((event: CloseEvent) => void)[] = [];
		constructor(url: string | URL, protocols?: string | string[]) {
			super(url, protocols);
			current = this;
		}
		override addEventListener(...[type, listener, options]: Parameters<WebSocket["addEventListener"]>): void {
			const heard = listener as (event: Event) => void;
			if (type === "close") this.closeListeners.push(heard);
			super.addEventListener(
				type,
				(event: Event) => {
					if (!this.unplugged) heard(event);
				},
				options,
			);
		}
	}
	return {
		WebSocket: Unpluggable as unknown as typeof WebSocket,
		unplug() {
			const socket = current as Unpluggable;
			socket.unplugged = true;
			socket.close();
			return () => {
				for (const listener of socket.closeListeners) listener(new CloseEvent("close", { code: 1006 }));
			};
		},
	};
}

describe("the client library resuming from far back", () => {
	let server: Awaited<ReturnType<typeof startMiniflare>>;
	beforeAll(async () => {
		server = await startMiniflare({ vars: { RATE_LIMIT_MESSAGES: "0" } });
	});
	afterAll(() => server?.stop());

	it("catches up over many pages, then lets go what came live meanwhile: every id once, in order", async () => {
		const room = freshRoom("library-far-back");
		const network = unpluggableWebSocket();
		const chat = connect({ url: server.origin, room, name: "ada", WebSocket: network.WebSocket });
		const ids = seenIds(chat);
		const welcomes: { resumed: boolean; more: boolean }[] = [];
		chat.on("welcome", ({ welcome, resumed }) => welcomes.push({ resumed, more: welcome.more === true }));
		const talker = await joinRich(server.socketUrl(room), "talker");
		try {
			await welcomed(chat);
			talker.send("seen live", "s0");
			await until(chat, () => ids.length === 1);
			const plugBack = network.unplug();
			// Away for 450 messages: a resuming welcome carries 100, the rest come in pages of 100.
			const AWAY = 450;
			for (let i = 1; i <= AWAY; i++) talker.send(`missed ${i}`, `m${i}`);
			await talker.until(() => talker.messages.length === 1 + AWAY);
			plugBack();
			await until(chat, () => welcomes.length === 2);
			// Live messages while it catches up wait their turn behind the pages.
			for (let i = 1; i <= 5; i++) talker.send(`live ${i}`, `l${i}`);
			const total = 1 + AWAY + 5;
			await until(chat, () => ids.includes(total));
			expect(welcomes).toEqual([
				{ resumed: false, more: false },
				{ resumed: true, more: true },
			]);
			expect(ids).toEqual(Array.from({ length: total }, (_, i) => i + 1));
		} finally {
			chat.close();
			talker.client.socket.close();
		}
	});
});

describe("the client library in signed mode", () => {
	let server: LocalServer;
	beforeAll(async () => {
		server = await startWranglerDev({ vars: { AUTH_SECRET: TEST_SECRET } });
	});
	afterAll(() => server.stop());

	it("npm run chat prints a message's further lines indented under its first, and a deleted message as (deleted)", async () => {
		const room = freshRoom("terminal-lines");
		const ada = connect({
			url: server.origin,
			room,
			token: await signToken({ sub: "ada", name: "ada", room, role: "member" }),
		});
		try {
			await welcomed(ada);
			await ada.send("one\ntwo\nthree");
			const gone = await ada.send("soon gone");
			const deleted = new Promise<void>((resolve) => {
				const stop = ada.on("delete", () => {
					stop();
					resolve();
				});
			});
			expect(ada.delete(gone.id)).toBe(true);
			await deleted;
			const token = await signToken({ sub: "bob", name: "bob", room, role: "member" });
			const { child, lines } = terminal(server.origin, room, ["--token", token]);
			try {
				await untilOutput(child, () => lines.includes("ada: (deleted)"));
				expect(lines).toEqual(["ada: one", "     two", "     three", "ada: (deleted)"]);
				// Live, the same.
				await ada.send("four\nfive");
				await untilOutput(child, () => lines.length === 6);
				expect(lines.slice(4)).toEqual(["ada: four", "     five"]);
			} finally {
				child.kill();
			}
		} finally {
			ada.close();
		}
	});

	it("stays closed after a moderator's kick: no retry, and a later send rejects at once", async () => {
		const room = freshRoom("library-kick");
		const token = (sub: string, role: "member" | "moderator") => signToken({ sub, name: sub, room, role });
		const mod = connect({ url: server.origin, room, token: await token("mod", "moderator") });
		const eve = connect({ url: server.origin, room, token: await token("eve", "member") });
		const states: string[] = [];
		eve.on("state", ({ state, code }) => states.push(`${state}${code === undefined ? "" : ` ${code}`}`));
		try {
			await Promise.all([welcomed(mod), welcomed(eve)]);
			expect(eve.userId).toBe("eve");
			expect(mod.kick("eve")).toBe(true);
			await until(eve, () => eve.state === "closed");
			// "closed" and never "waiting": the library scheduled no reconnect.
			expect(states).toEqual(["connecting", "open", "closed 4001"]);
			await expect(eve.send("let me back")).rejects.toMatchObject({ code: "closed" });
		} finally {
			mod.close();
			eve.close();
		}
	});
});

describe("npm run chat", () => {
	let persistDir: string;
	beforeAll(async () => {
		persistDir = await mkdtemp(path.join(tmpdir(), "edgechat-terminal-"));
	});
	afterAll(() => rm(persistDir, { recursive: true, force: true }));

	it("sends stdin lines and prints the room, through a restart of the server", async () => {
		const port = await freePort();
		const room = freshRoom("terminal");
		let server = await startWranglerDev({ port, persistDir });
		const { child, lines, exited } = terminal(server.origin, room);
		const bob = connect({ url: server.origin, room, name: "bob" });
		const heard: string[] = [];
		// What ada typed while the server was away reaches bob live or, if she is back first, in
		// the history of his resuming welcome (the library emits no `message` for those).
		bob.on("welcome", ({ welcome }) => {
			for (const entry of welcome.history) if (!("kind" in entry)) heard.push(`${entry.name}: ${entry.text}`);
		});
		bob.on("message", (message) => heard.push(`${message.name}: ${message.text}`));
		try {
			await welcomed(bob);
			await until(bob, () => bob.members.includes("ada"));
			child.stdin.write("hello from the terminal\n");
			await until(bob, () => heard.includes("ada: hello from the terminal"));
			await bob.send("hi ada");
			await expect.poll(() => lines.includes("bob: hi ada")).toBe(true);

			await server.stop();
			child.stdin.write("typed while the server was away\n");
			server = await startWranglerDev({ port, persistDir });
			bob.open();
			await until(bob, () => heard.includes("ada: typed while the server was away"));
			await bob.send("welcome back");
			await expect.poll(() => lines.includes("bob: welcome back"), { timeout: 60_000 }).toBe(true);
			child.stdin.end();
			expect(await exited).toBe(0);
			// Once each, in the order typed.
			expect(heard.filter((line) => line.startsWith("ada: "))).toEqual([
				"ada: hello from the terminal",
				"ada: typed while the server was away",
			]);
			expect(lines.filter((line) => line === "bob: hi ada")).toHaveLength(1);
		} finally {
			child.kill();
			bob.close();
			await server.stop();
		}
	}, 120_000);
});

describe("the README's bot", () => {
	let server: LocalServer;
	beforeAll(async () => {
		server = await startWranglerDev();
	});
	afterAll(() => server.stop());

	it("says what it needs on a Node without a global WebSocket (Node 20), instead of failing obscurely", async () => {
		// Node 22's flag makes it the Node 20 the README's newcomer may have.
		const bot = spawn(
			path.join(ROOT, "node_modules/.bin/node"),
			["--no-experimental-websocket", "examples/time-bot.js"],
			{
				cwd: ROOT,
				env: { ...process.env, EDGECHAT_URL: server.origin, EDGECHAT_ROOM: freshRoom("bot-node20") },
			},
		);
		let stderr = "";
		bot.stderr.on("data", (chunk) => {
			stderr += String(chunk);
		});
		const code = await new Promise<number | null>((resolve) => bot.once("exit", resolve));
		expect(code).toBe(1);
		expect(stderr).toContain("edgechat/client needs a WebSocket");
		expect(stderr).toContain("Node 22 or newer");
		expect(stderr).not.toContain("is not a constructor");
	});

	it("is examples/time-bot.js word for word, and answers !time in its room", async () => {
		const source = readFileSync(path.join(ROOT, "examples/time-bot.js"), "utf8");
		expect(readFileSync(path.join(ROOT, "README.md"), "utf8")).toContain(source);
		const room = freshRoom("bot");
		const bot = spawn(path.join(ROOT, "node_modules/.bin/node"), ["examples/time-bot.js"], {
			cwd: ROOT,
			env: { ...process.env, EDGECHAT_URL: server.origin, EDGECHAT_ROOM: room },
		});
		const ada = connect({ url: server.origin, room, name: "ada" });
		try {
			await welcomed(ada);
			await until(ada, () => ada.members.includes("clock"));
			const asked = await ada.send("!time");
			const answer = await new Promise<ChatMessage>((resolve) => {
				ada.on("message", (message) => {
					if (message.name === "clock") resolve(message);
				});
			});
			expect(answer.id).toBe(asked.id + 1);
			expect(answer.text).toMatch(/^ada, it is \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
		} finally {
			bot.kill();
			ada.close();
		}
	});
});
