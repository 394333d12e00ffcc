/**
 * The chat page in signed mode (PROTOCOL.md, "Signed identity and moderation"; docs/operating.md,
 * "Signed mode"): headless Chromium against the Worker on workerd with `AUTH_SECRET` set. Tokens are
 * minted as a site's backend would; each person is a browser profile of its own opening a link
 * with `#token=…`. Every wait is on the page's DOM or its socket, never on a timer.
 */
import AxeBuilder from "@axe-core/playwright";
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startMiniflare } from "../../scripts/local-server.ts";
import type { Role } from "../../src/wire/protocol.ts";
import { person as newPerson } from "../support/chat-page.ts";
import { usePageFixture } from "../support/page-fixture.ts";
import { signToken, TEST_SECRET } from "../support/tokens.ts";

const fixture = usePageFixture({ vars: { AUTH_SECRET: TEST_SECRET } });

/** A browser profile of its own: one person. */
const person = (): Promise<BrowserContext> => newPerson(fixture.browser);

/** Who opens the link. */
interface Who {
	sub: string;
	name: string;
	role?: Role;
}

/** A page that threw is a failed test. */
async function newPage(context: BrowserContext): Promise<Page> {
	const page = await context.newPage();
	page.on("pageerror", (error) => {
		throw error;
	});
	return page;
}

/**
 * Opens the link a site would hand `who` for `room`, waiting until the room has welcomed it;
 * `before` runs before the page loads (to watch its socket from the start).
 */
async function openSigned(
	room: string,
	who: Who,
	origin = fixture.server.origin,
	before: (page: Page) => unknown = () => {},
): Promise<Page> {
	const page = await newPage(await person());
	await before(page);
	const token = await signToken({ sub: who.sub, name: who.name, room, role: who.role ?? "member" });
	await page.goto(`${origin}/?room=${room}#token=${token}`);
	await joined(page, who.name);
	return page;
}

const messages = (page: Page) => page.getByRole("list", { name: "Messages" }).locator("li.message");
const members = (page: Page) => page.getByRole("list", { name: "Members" }).getByRole("listitem");
/** A stored message: on the page, no longer pending. */
const stored = (page: Page, text: string) =>
	messages(page)
		.filter({ has: page.locator(".text", { hasText: text }) })
		.and(page.locator("li[data-id]"));
const byId = (page: Page, id: string) => page.locator(`#messages li.message[data-id="${id}"]`);
const actionsButton = (item: ReturnType<typeof stored>) => item.getByRole("button", { name: /^Actions for / });
const texts = (page: Page) => messages(page).locator(".text").allTextContents();

/** Members are shown once the room's welcome has arrived (the name alone is known from the token before). */
async function joined(page: Page, name: string): Promise<void> {
	await members(page).filter({ hasText: name }).waitFor();
}

async function send(page: Page, text: string): Promise<string> {
	const input = page.getByRole("textbox", { name: "Message" });
	await input.fill(text);
	await input.press("Enter");
	await stored(page, text).waitFor();
	return (await stored(page, text).getAttribute("data-id")) as string;
}

/** The labels of the menu a message's actions button opens (the menu is closed again after). */
async function menuOf(page: Page, text: string): Promise<string[]> {
	const item = stored(page, text);
	await actionsButton(item).click();
	const labels = await item.locator(".actions-menu").getByRole("button").allTextContents();
	await page.keyboard.press("Escape");
	await item.locator(".actions-menu").waitFor({ state: "detached" });
	return labels;
}

/** What has focus: its accessible label, else its text (the page's DOM, read in the page). */
function focused(page: Page): Promise<string | null> {
	return page.evaluate<string | null>(
		`document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent ?? null`,
	);
}

describe("the page in signed mode", () => {
	it("takes the token from the link's fragment out of the address bar, joins under the token's name, and keeps it for a reload", async () => {
		const room = "signed-fragment";
		const context = await person();
		const page = await newPage(context);
		const sockets: string[] = [];
		page.on("websocket", (socket) => sockets.push(socket.url()));
		// The handshakes as Chromium sent and received them (its DevTools protocol).
		const handshakes: { offered?: string; selected?: string }[] = [];
		const cdp = await context.newCDPSession(page);
		await cdp.send("Network.enable");
		cdp.on("Network.webSocketWillSendHandshakeRequest", ({ request }) => {
			handshakes.push({ offered: request.headers["Sec-WebSocket-Protocol"] });
		});
		cdp.on("Network.webSocketHandshakeResponseReceived", ({ response }) => {
			const last = handshakes.at(-1);
			if (last)
				last.selected = response.headers["Sec-WebSocket-Protocol"] ?? response.headers["sec-websocket-protocol"];
		});
		const token = await signToken({ sub: "u-alice", name: "Alice", room, role: "member" });
		await page.goto(`${fixture.server.origin}/?room=${room}#token=${token}`);
		await joined(page, "Alice");
		// Gone from the address bar (and so from bookmarks and shared links), the room kept.
		expect(page.url()).toBe(`${fixture.server.origin}/?room=${room}`);
		// In no URL: the socket offers it as a subprotocol, and the room selects edgechat.v1 alone.
		expect(sockets).toEqual([fixture.server.socketUrl(room)]);
		expect(handshakes).toEqual([{ offered: `edgechat.v1, edgechat.token.${token}`, selected: "edgechat.v1" }]);
		// No name asked: the token says who this is.
		expect(await page.getByRole("dialog", { name: "Join the chat" }).isVisible()).toBe(false);
		expect(await page.locator("#my-name").textContent()).toBe("Alice");
		expect(await page.getByRole("button", { name: "change" }).isVisible()).toBe(false);

		const bob = await openSigned(room, { sub: "u-bob", name: "Bob" });
		await send(page, "signed hello");
		await stored(bob, "signed hello").waitFor();
		expect(await stored(bob, "signed hello").locator(".author").textContent()).toBe("Alice");

		// A reload finds the token kept for this tab and room, and resumes.
		await page.reload();
		await joined(page, "Alice");
		await stored(page, "signed hello").waitFor();
		expect(page.url()).toBe(`${fixture.server.origin}/?room=${room}`);
		expect(sockets).toEqual([fixture.server.socketUrl(room), fixture.server.socketUrl(room)]);
		expect(handshakes[1]?.offered).toBe(`edgechat.v1, edgechat.token.${token}`);
	});

	it("shows each user only the actions it may take: authors their own, moderators every message, read-only nothing", async () => {
		const room = "signed-controls";
		const alice = await openSigned(room, { sub: "u-alice", name: "Alice" });
		const bob = await openSigned(room, { sub: "u-bob", name: "Bob" });
		const mod = await openSigned(room, { sub: "u-mod", name: "Mod", role: "moderator" });
		const reader = await openSigned(room, { sub: "u-reader", name: "Reader", role: "readonly" });
		await send(alice, "from alice");
		await send(bob, "from bob");
		await send(mod, "from mod");
		for (const page of [alice, bob, mod, reader]) await stored(page, "from mod").waitFor();

		// A member: Edit and Delete on its own message, nothing at all on others'.
		expect(await actionsButton(stored(bob, "from alice")).count()).toBe(0);
		expect(await actionsButton(stored(bob, "from mod")).count()).toBe(0);
		expect(await menuOf(bob, "from bob")).toEqual(["Edit", "Delete"]);
		// A moderator: Delete, Kick and Ban on others' messages; its own it edits and deletes.
		expect(await menuOf(mod, "from alice")).toEqual(["Delete", "Kick Alice", "Ban Alice…"]);
		expect(await menuOf(mod, "from mod")).toEqual(["Edit", "Delete"]);
		// Read-only: no actions, and a composer that cannot send and says why.
		expect(await reader.locator("#messages .actions-toggle").count()).toBe(0);
		const input = reader.getByRole("textbox", { name: "Message" });
		expect(await input.isDisabled()).toBe(true);
		expect(await reader.getByRole("button", { name: "Send" }).isDisabled()).toBe(true);
		await reader.getByText("Read-only: you can follow this room but not write in it.").waitFor();
		expect(await input.getAttribute("aria-describedby")).toBe("composer-note-text");
	});

	it("lets a moderator delete another's message: every page shows it deleted in its place, late joiners too", async () => {
		const room = "signed-delete";
		const alice = await openSigned(room, { sub: "u-alice", name: "Alice" });
		const mod = await openSigned(room, { sub: "u-mod", name: "Mod", role: "moderator" });
		await send(alice, "first");
		const id = await send(alice, "second");
		await send(alice, "third");
		await stored(mod, "third").waitFor();

		await actionsButton(stored(mod, "second")).click();
		await stored(mod, "second").getByRole("button", { name: "Delete" }).click();
		const dialog = mod.getByRole("dialog", { name: "Delete this message?" });
		await dialog.getByText("“second” will read “message deleted” for everyone.").waitFor();
		await dialog.getByRole("button", { name: "Delete" }).click();

		for (const page of [alice, mod]) {
			await byId(page, id).and(page.locator(".deleted")).waitFor();
			expect(await texts(page)).toEqual(["first", "message deleted", "third"]);
			expect(await byId(page, id).locator(".author").textContent()).toBe("Alice");
		}
		// The deleted message has no actions left, and focus is not lost to the page's body.
		expect(await actionsButton(byId(mod, id)).count()).toBe(0);
		expect(await mod.evaluate<boolean>("document.activeElement !== document.body")).toBe(true);
		// The delete is in the log: someone arriving now replays it.
		const late = await openSigned(room, { sub: "u-late", name: "Late" });
		await stored(late, "third").waitFor();
		expect(await texts(late)).toEqual(["first", "message deleted", "third"]);
	});

	it("lets an author edit its own message with the keyboard alone; everyone sees the new text marked (edited)", async () => {
		const room = "signed-edit";
		const alice = await openSigned(room, { sub: "u-alice", name: "Alice" });
		const bob = await openSigned(room, { sub: "u-bob", name: "Bob" });
		const id = await send(alice, "helo wrld");
		await stored(bob, "helo wrld").waitFor();

		const toggle = actionsButton(byId(alice, id));
		await toggle.focus();
		await alice.keyboard.press("Enter");
		expect(await toggle.getAttribute("aria-expanded")).toBe("true");
		expect(await focused(alice)).toBe("Edit");
		// Escape closes the menu and gives focus back to its button.
		await alice.keyboard.press("Escape");
		expect(await toggle.getAttribute("aria-expanded")).toBe("false");
		expect(await focused(alice)).toBe("Actions for Alice's message");

		await alice.keyboard.press("Enter");
		await alice.keyboard.press("Enter"); // "Edit", focused first
		const field = byId(alice, id).getByRole("textbox", { name: "Edit message" });
		expect(await field.inputValue()).toBe("helo wrld");
		expect(await focused(alice)).toBe("Edit message");
		const edited = "hello world, see https://example.com/docs";
		await field.fill(edited);
		await alice.keyboard.press("Enter");

		// The new text is rendered as any message's: its link clickable.
		const link = (page: Page) => byId(page, id).getByRole("link", { name: "https://example.com/docs" });
		for (const page of [alice, bob]) {
			await byId(page, id).locator(".text", { hasText: "hello world" }).waitFor();
			expect(await byId(page, id).locator(".edited").textContent()).toBe("(edited)");
			expect(await texts(page)).toEqual([edited]);
			expect(await link(page).getAttribute("href")).toBe("https://example.com/docs");
		}
		expect(await focused(alice)).toBe("Actions for Alice's message");
		// Replayed from the log for someone arriving later.
		const late = await openSigned(room, { sub: "u-late", name: "Late" });
		await stored(late, "hello world").locator(".edited").waitFor();
		expect(await texts(late)).toEqual([edited]);
		expect(await link(late).getAttribute("href")).toBe("https://example.com/docs");
	});

	it("says so when the message a user acts on was deleted meanwhile (not_found)", async () => {
		const room = "signed-gone";
		const alice = await openSigned(room, { sub: "u-alice", name: "Alice" });
		const mod = await openSigned(room, { sub: "u-mod", name: "Mod", role: "moderator" });
		const id = await send(alice, "soon gone");
		await stored(mod, "soon gone").waitFor();
		// Alice is asked to confirm her delete while the moderator deletes it first.
		await actionsButton(byId(alice, id)).click();
		await byId(alice, id).getByRole("button", { name: "Delete" }).click();
		const dialog = alice.getByRole("dialog", { name: "Delete this message?" });
		await dialog.waitFor();
		await actionsButton(byId(mod, id)).click();
		await byId(mod, id).getByRole("button", { name: "Delete" }).click();
		await mod.getByRole("dialog", { name: "Delete this message?" }).getByRole("button", { name: "Delete" }).click();
		await byId(alice, id).and(alice.locator(".deleted")).waitFor();
		await dialog.getByRole("button", { name: "Delete" }).click();
		await alice.locator("#messages li.notice.important", { hasText: /^That message is gone: / }).waitFor();
	});

	it("shows a newcomer the newest messages as they stand now, edits applied, none of older ones", async () => {
		// Two messages replayed to a newcomer, each as it stands now (PROTOCOL.md, "History").
		const local = await startMiniflare({ vars: { AUTH_SECRET: TEST_SECRET, HISTORY_REPLAY: "2" } });
		try {
			const room = "signed-window";
			const alice = await openSigned(room, { sub: "u-alice", name: "Alice" }, local.origin);
			const one = await send(alice, "one");
			await send(alice, "two");
			const three = await send(alice, "three");
			for (const [id, text] of [
				[one, "one, edited"],
				[three, "three, edited"],
			] as const) {
				await actionsButton(byId(alice, id)).click();
				await byId(alice, id).getByRole("button", { name: "Edit" }).click();
				await byId(alice, id).getByRole("textbox", { name: "Edit message" }).fill(text);
				await alice.keyboard.press("Enter");
				await byId(alice, id).locator(".text", { hasText: text }).waitFor();
			}
			// Log: 1 one, 2 two, 3 three, 4 edit(1), 5 edit(3); a newcomer gets messages 2 and 3 as
			// they stand now, and nothing of message 1 or its edit.
			const late = await openSigned(room, { sub: "u-late", name: "Late" }, local.origin);
			await stored(late, "three, edited").waitFor();
			expect(await texts(late)).toEqual(["two", "three, edited"]);
			expect(await late.locator("#messages .edited").count()).toBe(1);
		} finally {
			await local.stop();
		}
	});

	it("closes a kicked page with a notice, does not reconnect by itself, and lets it rejoin when asked", async () => {
		const room = "signed-kick";
		const mod = await openSigned(room, { sub: "u-mod", name: "Mod", role: "moderator" });
		// Bob's timers run on Playwright's clock, so the test can fire any reconnect timer at once.
		const bob = await openSigned(room, { sub: "u-bob", name: "Bob" }, undefined, (page) => page.clock.install());
		const bobSockets: string[] = [];
		bob.on("websocket", (socket) => bobSockets.push(socket.url()));
		await send(bob, "spam spam");
		await stored(mod, "spam spam").waitFor();

		await actionsButton(stored(mod, "spam spam")).click();
		await stored(mod, "spam spam").getByRole("button", { name: "Kick Bob" }).click();
		await mod.getByRole("dialog", { name: "Kick Bob?" }).getByRole("button", { name: "Kick" }).click();

		await bob.getByText("A moderator removed you from this room.", { exact: true }).waitFor();
		// Closed for good: not waiting to retry, and coming back online does not reconnect either.
		const status = bob.getByRole("status");
		expect(await status.getAttribute("data-state")).toBe("closed");
		expect(await status.textContent()).toContain("Removed by a moderator");
		expect(await bob.getByRole("button", { name: "Reconnect now" }).isVisible()).toBe(false);
		// Reconnecting starts synchronously (state "connecting"), so this reads what "online" did.
		const afterOnline = await bob.evaluate<string>(
			`dispatchEvent(new Event("online")), document.getElementById("connection").dataset.state`,
		);
		expect(afterOnline).toBe("closed");
		// Any retry timer would be due within the backoff's 30 s ceiling: fire everything due in 2 minutes.
		await bob.clock.runFor("02:00");
		expect(await status.getAttribute("data-state")).toBe("closed");
		expect(await bob.getByRole("textbox", { name: "Message" }).isDisabled()).toBe(true);
		// Everyone else is told, and Bob has left.
		await mod.getByText(/^Bob was kicked by Mod\.$/).waitFor();
		await members(mod).filter({ hasText: "Bob" }).waitFor({ state: "detached" });
		expect(bobSockets).toEqual([]);

		// A kick is not a ban: Bob may come back, when he chooses to.
		await bob.getByRole("button", { name: "Rejoin" }).click();
		await members(mod).filter({ hasText: "Bob" }).waitFor();
		await bob.getByRole("textbox", { name: "Message" }).and(bob.locator(":enabled")).waitFor();
		expect(bobSockets).toHaveLength(1);
	});

	it("bans for the length the moderator chose, and the banned page says until when", async () => {
		const room = "signed-ban";
		const sent: string[] = [];
		const mod = await openSigned(room, { sub: "u-mod", name: "Mod", role: "moderator" }, undefined, (page) =>
			page.on("websocket", (socket) => socket.on("framesent", (frame) => sent.push(String(frame.payload)))),
		);
		const bob = await openSigned(room, { sub: "u-bob", name: "Bob" });
		await send(bob, "more spam");
		await stored(mod, "more spam").waitFor();

		await actionsButton(stored(mod, "more spam")).click();
		await stored(mod, "more spam").getByRole("button", { name: "Ban Bob…" }).click();
		const dialog = mod.getByRole("dialog", { name: "Ban Bob?" });
		// The length is the question: it has focus.
		expect(await mod.evaluate<string>("document.activeElement.id")).toBe("ban-length");
		await dialog.getByRole("combobox", { name: "Ban for" }).selectOption({ label: "10 minutes" });
		await dialog.getByRole("button", { name: "Ban" }).click();

		await bob
			.getByText(/^A moderator banned you from this room until .+\.$/)
			.first()
			.waitFor();
		expect(await bob.getByRole("status").getAttribute("data-state")).toBe("closed");
		expect(await bob.getByRole("button", { name: "Rejoin" }).isVisible()).toBe(false);
		await mod.getByText(/^Bob was banned by Mod until .+\.$/).waitFor();
		expect(sent.map((frame) => JSON.parse(frame)).filter((event) => event.type === "ban")).toEqual([
			{ type: "ban", userId: "u-bob", seconds: 600 },
		]);
	});

	it("tells a visitor who came without a sign-in link, once and in words, that the room is for its members", async () => {
		const page = await newPage(await person());
		await page.goto(`${fixture.server.origin}/?room=signed-no-token`);
		// Nothing tells the page the room is signed until it asks: it asks a name, as in open mode.
		const dialog = page.getByRole("dialog", { name: "Join the chat" });
		await dialog.getByRole("textbox", { name: "Your name" }).fill("Vic");
		await dialog.getByRole("button", { name: "Join" }).click();
		const words = "This room is for its members only: open it with the sign-in link the site gave you.";
		await page.getByText(words).waitFor();
		expect(await page.getByText(words).count()).toBe(1);
		expect(await page.getByRole("main").textContent()).not.toMatch(/token|Bearer/);
		// Not "You are Vic (change)": Vic is not in the room.
		expect(await page.locator("#you").isHidden()).toBe(true);
		expect(await page.getByRole("status").getAttribute("data-state")).toBe("failed");
	});

	it("tells a page the room refused why (a ban, another room's token), and does not retry", async () => {
		const room = "signed-refused";
		// A moderator (a plain script, as PROTOCOL.md allows) bans eve, who is not connected.
		const banner = await signToken({ sub: "u-mod", name: "Mod", room, role: "moderator" });
		const socket = new WebSocket(
			`${fixture.server.origin.replace("http", "ws")}/api/rooms/${room}/websocket?token=${banner}`,
			["edgechat.v1"],
		);
		await new Promise((resolve) => socket.once("open", resolve));
		socket.send(JSON.stringify({ type: "hello" }));
		socket.send(JSON.stringify({ type: "ban", userId: "u-eve", seconds: 600 }));
		await new Promise<void>((resolve) =>
			socket.on("message", (data) => {
				if (String(data).includes('"removed"')) resolve();
			}),
		);
		socket.close();

		for (const [who, expected] of [
			// Words for a person: a date as people write it, not the room's ISO time.
			[{ sub: "u-eve", name: "Eve", room }, /^A moderator banned you from this room until [^T]+\.$/],
			[
				{ sub: "u-sam", name: "Sam", room: "another-room" },
				/^Your sign-in link is for another room: open this room with its own link\.$/,
			],
		] as const) {
			const page = await newPage(await person());
			await page.clock.install();
			const sockets: string[] = [];
			page.on("websocket", (ws) => sockets.push(ws.url()));
			const token = await signToken({ ...who, role: "member" });
			await page.goto(`${fixture.server.origin}/?room=${room}#token=${token}`);
			// Said once, in the conversation; the composer is disabled with a short note.
			await page.getByText(expected).first().waitFor();
			expect(await page.getByText(expected).count()).toBe(1);
			expect(await page.locator("#composer-note-text").textContent()).toBe("You are not in this room.");
			expect(await page.getByRole("status").getAttribute("data-state")).toBe("failed");
			// Any retry would be due within the backoff's 30 s ceiling: fire everything due in 2 minutes.
			await page.clock.runFor("02:00");
			expect(sockets).toHaveLength(1);
		}
	});

	it("does not reconnect with a token that expired while it was connected, and says so once", async () => {
		const local = await startMiniflare({ vars: { AUTH_SECRET: TEST_SECRET } });
		try {
			const room = "signed-expiring";
			const page = await newPage(await person());
			// The page's clock is Playwright's: time can pass without the test waiting for it.
			await page.clock.install();
			const sockets: string[] = [];
			page.on("websocket", (socket) => sockets.push(socket.url()));
			const exp = Math.floor(Date.now() / 1000) + 120;
			const token = await signToken({ sub: "u-eve", name: "Eve", room, role: "member", exp });
			await page.goto(`${local.origin}/?room=${room}#token=${token}`);
			await joined(page, "Eve");
			// Ten minutes on: the token is past its expiry (and the Worker's 30 s tolerance); then the network drops.
			await page.clock.fastForward("10:00");
			await local.stop();
			const notice = page.getByText("Your sign-in link has expired. Ask for a new one to join again.");
			await notice.waitFor();
			// Any retry would be due within the backoff's 30 s ceiling: fire everything due in 2 minutes.
			await page.clock.runFor("02:00");
			expect(await page.getByRole("status").getAttribute("data-state")).toBe("failed");
			expect(await notice.count()).toBe(1);
			expect(sockets).toHaveLength(1);
		} finally {
			await local.stop();
		}
	});

	it("does not connect with an expired link, and says so", async () => {
		const page = await newPage(await person());
		const sockets: string[] = [];
		page.on("websocket", (socket) => sockets.push(socket.url()));
		const expired = Math.floor(Date.now() / 1000) - 3600;
		const token = await signToken({ sub: "u-old", name: "Old", room: "signed-expired", role: "member", exp: expired });
		await page.goto(`${fixture.server.origin}/?room=signed-expired#token=${token}`);
		await page.getByText("Your sign-in link has expired. Ask for a new one to join again.").waitFor();
		expect(page.url()).toBe(`${fixture.server.origin}/?room=signed-expired`);
		expect(await page.getByRole("status").textContent()).toContain("Link expired");
		expect(await page.getByRole("textbox", { name: "Message" }).isDisabled()).toBe(true);
		expect(sockets).toEqual([]);
	});
});

/** A moderator's script changes the room's settings and waits until the room has announced it. */
async function changeSettings(room: string, change: Record<string, unknown>): Promise<void> {
	const token = await signToken({ sub: "u-settings", name: "Host", room, role: "moderator" });
	const socket = new WebSocket(`${fixture.server.socketUrl(room)}?token=${token}`, ["edgechat.v1"]);
	await new Promise((resolve) => socket.once("open", resolve));
	const announced = new Promise<void>((resolve) =>
		socket.on("message", (data) => {
			if (String(data).includes('"type":"settings"')) resolve();
		}),
	);
	socket.send(JSON.stringify({ type: "hello" }));
	socket.send(JSON.stringify({ type: "settings", ...change }));
	await announced;
	socket.close();
}

describe("room settings on the page", () => {
	it("slow mode: counts down after a send, keeps what is typed meanwhile, and gives back a refused message's text", async () => {
		const room = "signed-slow-mode";
		const first = await openSigned(room, { sub: "u-sam", name: "Sam" });
		const second = await openSigned(room, { sub: "u-sam", name: "Sam" });
		await changeSettings(room, { slowModeSeconds: 60 });
		await first
			.getByText("Host changed the room's settings: slow mode is on (one message per 60 s)", { exact: false })
			.waitFor();
		await send(first, "one a minute");
		const wait = first.locator("#slow-wait");
		await wait.waitFor();
		expect(await wait.textContent()).toMatch(/^Slow mode: you can send again in (60|59|58) s$/);
		expect(await first.getByRole("button", { name: "Send" }).getAttribute("aria-disabled")).toBe("true");
		// Enter during the wait sends nothing and leaves the text where it is.
		const box = first.getByRole("textbox", { name: "Message" });
		await box.fill("a second thought");
		await box.press("Enter");
		expect(await box.inputValue()).toBe("a second thought");
		expect(await messages(first).filter({ hasText: "a second thought" }).count()).toBe(0);
		// The other tab did not know: the room refuses, and the page says so in words and keeps the text.
		const other = second.getByRole("textbox", { name: "Message" });
		await other.fill("from my other tab");
		await other.press("Enter");
		await second
			.locator(".failed")
			.getByText(/slow mode: wait \d+ s before your next message/)
			.waitFor();
		expect(await other.inputValue()).toBe("from my other tab");
		await second.locator("#slow-wait").waitFor();
	});

	it("an announcement room: members' composer is read-only and says why, a moderator's is not; no axe violations", async () => {
		const room = "signed-announcements";
		const member = await openSigned(room, { sub: "u-ann", name: "Ann" });
		const moderator = await openSigned(room, { sub: "u-mod", name: "Mod", role: "moderator" });
		await changeSettings(room, { postingRole: "moderators" });
		const note = member.locator("#composer-note-text");
		await note.getByText("This is an announcement room: only moderators can post here.").waitFor();
		expect(await member.getByRole("textbox", { name: "Message" }).isDisabled()).toBe(true);
		expect(await moderator.getByRole("textbox", { name: "Message" }).isDisabled()).toBe(false);
		await send(moderator, "the announcement");
		await stored(member, "the announcement").waitFor();
		const results = await new AxeBuilder({ page: member })
			.withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"])
			.analyze();
		expect(results.violations.map((rule) => rule.id)).toEqual([]);
		// Back to everyone: the composer opens again.
		await changeSettings(room, { postingRole: "everyone" });
		await member.getByRole("textbox", { name: "Message" }).and(member.locator(":enabled")).waitFor();
	});
});

describe("limits across connections on the page", () => {
	it("says in words why it is not let in when its user already holds MAX_CONNECTIONS_PER_USER connections, and keeps trying", async () => {
		const room = "signed-per-user";
		const token = await signToken({ sub: "u-busy", name: "Busy", room, role: "member" });
		const sockets: WebSocket[] = [];
		for (let i = 0; i < 20; i++) {
			const socket = new WebSocket(`${fixture.server.socketUrl(room)}?token=${token}`, ["edgechat.v1"]);
			const welcomed = new Promise<void>((resolve) =>
				socket.on("message", (data) => {
					if (String(data).includes('"welcome"')) resolve();
				}),
			);
			await new Promise((resolve) => socket.once("open", resolve));
			socket.send(JSON.stringify({ type: "hello" }));
			await welcomed;
			sockets.push(socket);
		}
		const page = await newPage(await person());
		await page.goto(`${fixture.server.origin}/?room=${room}#token=${token}`);
		await page
			.getByRole("status")
			.getByText(
				/^Not let in yet: too many connections for this user \(20\); close one and try again; trying again in \d+ s$/,
			)
			.waitFor();
		for (const socket of sockets) socket.close();
	});
});
