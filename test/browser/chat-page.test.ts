/**
 * The chat page in a real browser: headless Chromium (see ../support/browser.ts) against the Worker served by
 * workerd (miniflare API) on loopback.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BrowserContext, Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { startMiniflare } from "../../scripts/local-server.ts";
import { person as newPerson } from "../support/chat-page.ts";
import { usePageFixture } from "../support/page-fixture.ts";
import { joinRich } from "../support/rich-client.ts";

const fixture = usePageFixture();

/** A browser profile of its own (its own localStorage): one person. */
const person = (): Promise<BrowserContext> => newPerson(fixture.browser);

/** Opens the page for `room` and joins as `name` (if asked), waiting until joined. */
async function openChat(
	context: BrowserContext,
	room: string,
	name?: string,
	origin = fixture.server.origin,
): Promise<Page> {
	const page = await context.newPage();
	page.on("pageerror", (error) => {
		throw error;
	});
	await page.goto(`${origin}/?room=${room}`);
	// A name is asked for before the socket opens (the room lets go of one that says no hello).
	if (name !== undefined) {
		const dialog = page.getByRole("dialog", { name: "Join the chat" });
		await dialog.getByRole("textbox", { name: "Your name" }).fill(name);
		await dialog.getByRole("button", { name: "Join" }).click();
	}
	await page.getByRole("status").getByText("Connected").waitFor();
	return page;
}

async function send(page: Page, text: string): Promise<void> {
	const input = page.getByRole("textbox", { name: "Message" });
	await input.fill(text);
	await input.press("Enter");
}

const messages = (page: Page) => page.getByRole("list", { name: "Messages" }).locator("li.message");
const members = (page: Page) => page.getByRole("list", { name: "Members" }).getByRole("listitem");
/** A stored message: on the page, and no longer marked pending. */
const stored = (page: Page, text: string) => messages(page).filter({ hasText: text }).and(page.locator("li[data-id]"));

describe("chat page", () => {
	it("lets two named users chat: members, typing, and messages both ways", async () => {
		const alice = await openChat(await person(), "browser-two", "Alice");
		await members(alice).filter({ hasText: "Alice" }).waitFor();
		// Open mode has no accounts: no account button in the header, no sign-in dialog.
		expect(await alice.locator("#account-button").isVisible()).toBe(false);
		expect(await alice.locator("#sign-in").isVisible()).toBe(false);
		const bob = await openChat(await person(), "browser-two", "Bob");
		// Bob sees Alice in the member list; Alice sees Bob join.
		await members(bob).filter({ hasText: "Alice" }).waitFor();
		await members(alice).filter({ hasText: "Bob" }).waitFor();
		expect(await members(bob).allTextContents()).toEqual(["Alice", "Bob"]);

		// Alice types: Bob sees it.
		await alice.getByRole("textbox", { name: "Message" }).fill("hel");
		await bob.getByText("Alice is typing…").waitFor();

		await alice.getByRole("textbox", { name: "Message" }).fill("hello from alice");
		await alice.getByRole("textbox", { name: "Message" }).press("Enter");
		await stored(bob, "hello from alice").waitFor();
		// The typing notice clears when Alice's message arrives.
		expect(await bob.getByText("Alice is typing…").count()).toBe(0);
		expect(await messages(bob).locator(".author").allTextContents()).toEqual(["Alice"]);
		// Alice's own copy is confirmed (stored, with a time), her input cleared and still focused.
		await stored(alice, "hello from alice").locator("time").waitFor();
		expect(await alice.getByRole("textbox", { name: "Message" }).inputValue()).toBe("");
		expect(await alice.locator("#message:focus").count()).toBe(1);

		// The Send button does what Enter does.
		await bob.getByRole("textbox", { name: "Message" }).fill("hi alice");
		await bob.getByRole("button", { name: "Send" }).click();
		await stored(alice, "hi alice").waitFor();
		expect(await bob.getByRole("textbox", { name: "Message" }).inputValue()).toBe("");
	});

	it("keeps a right-to-left name apart from the words around it: typing, members, authors, replies, reactions", async () => {
		const room = "browser-rtl";
		// Hebrew, then digits and Latin letters after it: without isolation the digits of a time or
		// the words of a sentence that follow it join its right-to-left run and are reordered.
		const yael = "יעל";
		const alice = await openChat(await person(), room, "Alice");
		const bob = await openChat(await person(), room, "Bob");
		await members(alice).filter({ hasText: "Bob" }).waitFor();
		// Bob takes another name ("change", beside "You are …"): the room and the others see it.
		await bob.getByRole("button", { name: "change" }).click();
		const dialog = bob.getByRole("dialog", { name: "Join the chat" });
		await dialog.getByRole("textbox", { name: "Your name" }).fill(yael);
		await dialog.getByRole("button", { name: "Join" }).click();
		await members(alice).filter({ hasText: yael }).waitFor();
		await members(alice).filter({ hasText: "Bob" }).waitFor({ state: "detached" });
		expect(await bob.locator("#my-name").textContent()).toBe(yael);

		/** The element a name sits in, and how the browser lays it out. */
		const holder = (locator: Locator) =>
			locator.evaluate((element) => {
				const style = element.ownerDocument.defaultView?.getComputedStyle(element);
				return {
					tag: element.tagName.toLowerCase(),
					text: element.textContent,
					unicodeBidi: style?.unicodeBidi,
					direction: style?.direction,
				};
			});
		const isolatedYael = { tag: "bdi", text: yael, unicodeBidi: "isolate", direction: "rtl" };

		await bob.getByRole("textbox", { name: "Message" }).fill("שלום");
		await alice.getByText(`${yael} is typing…`).waitFor();
		expect(await holder(alice.locator("#typing bdi"))).toEqual(isolatedYael);
		expect(await holder(members(alice).filter({ hasText: yael }).locator("bdi"))).toEqual(isolatedYael);
		expect(await holder(bob.locator("#my-name"))).toEqual(isolatedYael);

		await bob.getByRole("textbox", { name: "Message" }).press("Enter");
		const message = stored(alice, "שלום");
		await message.waitFor();
		expect(await holder(message.locator(".author"))).toEqual(isolatedYael);
		// The message's own text goes right to left; the page around it does not.
		expect(await holder(message.locator(".text"))).toMatchObject({ tag: "p", direction: "rtl" });

		// Alice answers it and reacts to it: the name in the reply preview, the quote and who reacted.
		await message.getByRole("button", { name: `Reply to ${yael}` }).click();
		await expect(alice.locator("#reply-preview-text").textContent()).resolves.toBe(`Replying to ${yael}: שלום`);
		expect(await holder(alice.locator("#reply-preview-text bdi").first())).toEqual(isolatedYael);
		await send(alice, "hello to you too");
		const answer = stored(bob, "hello to you too");
		await answer.waitFor();
		expect(await holder(answer.locator(".quote-author"))).toEqual(isolatedYael);
		await stored(bob, "hello to you too").getByRole("button", { name: "React to Alice's message" }).click();
		await stored(bob, "hello to you too").getByRole("button", { name: "React 🎉" }).click();
		const reaction = stored(alice, "hello to you too").getByRole("button", { name: `🎉 1: ${yael}` });
		await reaction.hover();
		expect(await holder(reaction.locator(".who bdi"))).toEqual(isolatedYael);
	});

	it("shows the history again after a reload, without asking the name again", async () => {
		const context = await person();
		const first = await openChat(context, "browser-reload", "Carol");
		for (const text of ["one", "two", "three"]) await send(first, text);
		await stored(first, "three").waitFor();
		await first.reload();
		await stored(first, "three").waitFor();
		expect(await messages(first).locator(".text").allTextContents()).toEqual(["one", "two", "three"]);
		expect(await first.getByRole("dialog").isVisible()).toBe(false);
		expect(await first.locator("#my-name").textContent()).toBe("Carol");
		// One day heading above the day's messages.
		expect(await first.getByRole("list", { name: "Messages" }).getByRole("heading").allTextContents()).toEqual([
			"Today",
		]);
	});

	it("shows HTML in a message as literal text, never as markup", async () => {
		const alice = await openChat(await person(), "browser-xss", "Alice");
		const bob = await openChat(await person(), "browser-xss", "<b>Bob</b>");
		let dialogs = 0;
		bob.on("dialog", async (dialog) => {
			dialogs++;
			await dialog.dismiss();
		});
		const attack = "<img src=x onerror=alert(1)>";
		await send(alice, attack);
		await stored(bob, attack).waitFor();
		expect(await stored(bob, attack).locator(".text").textContent()).toBe(attack);
		expect(await bob.locator("#messages img").count()).toBe(0);
		await members(alice).filter({ hasText: "<b>Bob</b>" }).waitFor();
		expect(await alice.locator("#members b").count()).toBe(0);
		// A later harmless message arriving proves the page kept running without a dialog.
		await send(alice, "after");
		await stored(bob, "after").waitFor();
		expect(dialogs).toBe(0);
	});

	it("never sends an empty or blank message", async () => {
		const alice = await openChat(await person(), "browser-empty", "Alice");
		const bob = await openChat(await person(), "browser-empty", "Bob");
		await send(alice, "   ");
		await send(alice, "real");
		await stored(bob, "real").waitFor();
		expect(await messages(bob).locator(".text").allTextContents()).toEqual(["real"]);
	});

	it("delivers every message of a fast burst: those over the flood limit are sent again when the room allows", async () => {
		const alice = await openChat(await person(), "browser-burst", "Alice");
		const texts = Array.from({ length: 7 }, (_, i) => `burst ${i}`);
		for (const text of texts) await send(alice, text);
		// Five go through at once (RATE_LIMIT_BUCKET); two wait for their retry-after, still pending.
		await stored(alice, "burst 6").waitFor();
		expect(await messages(alice).locator(".text").allTextContents()).toEqual(texts);
		expect(await alice.locator("li.failed").count()).toBe(0);
	});

	it("asks again when the room refuses a name", async () => {
		const page = await openChat(await person(), "browser-badname", "bad\u202Ename");
		await page
			.getByRole("alert")
			.getByText(/invisible or direction-changing/)
			.waitFor();
		const dialog = page.getByRole("dialog", { name: "Join the chat" });
		await dialog.getByRole("textbox", { name: "Your name" }).fill("Good Name");
		await dialog.getByRole("button", { name: "Join" }).click();
		await members(page).filter({ hasText: "Good Name" }).waitFor();
	});

	it("starts over, without duplicates, when the room lost its history while the page was away", async () => {
		const local = await startMiniflare();
		const port = Number(new URL(local.origin).port);
		const alice = await openChat(await person(), "browser-reset", "Alice", local.origin);
		await send(alice, "old world");
		await stored(alice, "old world").waitFor();
		await local.stop();
		await alice
			.getByRole("status")
			.getByText(/Connection lost/)
			.waitFor();
		const fresh = await startMiniflare({ port }); // no persisted state: an empty room
		try {
			await alice.getByText("The room's history was reset.").waitFor();
			await send(alice, "new world");
			await stored(alice, "new world").waitFor();
			expect(await messages(alice).locator(".text").allTextContents()).toEqual(["new world"]);
		} finally {
			await fresh.stop();
		}
	});

	it("is cut off (1013) while its reading is stalled, then reconnects and resumes without a gap or a duplicate", async () => {
		const FRAME = 32 * 1024;
		const local = await startMiniflare({
			vars: {
				MAX_BUFFERED_BYTES: String(256 * 1024),
				RICH_MESSAGE_CAP: String(FRAME),
				MAX_FRAME_BYTES: String(2 * FRAME),
				RATE_LIMIT_MESSAGES: "0",
			},
		});
		try {
			const reader = await openChat(await person(), "browser-stall", "Reader", local.origin);
			const talker = await joinRich(local.socketUrl("browser-stall"), "talker");
			await members(reader).filter({ hasText: "talker" }).waitFor();
			// Pausing the page's script stops it taking frames, so the browser stops reading the
			// socket and the room's side of it fills up.
			const reconnects: string[] = [];
			reader.on("websocket", (socket) => reconnects.push(socket.url()));
			const devtools = await reader.context().newCDPSession(reader);
			await devtools.send("Debugger.enable");
			await devtools.send("Debugger.pause");
			const COUNT = 300;
			const filler = "y".repeat(FRAME - 100);
			for (let i = 1; i <= COUNT; i++) talker.send(`${i} ${filler}`, `s${i}`);
			await talker.until(() => talker.messages.length === COUNT);
			// The next burst finds the reader over the limit and cuts it off.
			talker.send("the last one", "last");
			await talker.until(() => talker.messages.length === COUNT + 1);
			await devtools.send("Debugger.resume");
			await stored(reader, "the last one").waitFor({ timeout: 25_000 });
			const ids = await messages(reader).evaluateAll((items) =>
				items.map((item) => Number(item.getAttribute("data-id"))),
			);
			expect(ids).toEqual(Array.from({ length: COUNT + 1 }, (_, i) => i + 1));
			// It got there through a new socket: the old one was cut off.
			expect(reconnects.length).toBeGreaterThanOrEqual(1);
		} finally {
			await local.stop();
		}
	});

	it("refuses an invalid room name on the page itself, without opening a socket", async () => {
		const page = await (await person()).newPage();
		const sockets: string[] = [];
		page.on("websocket", (socket) => sockets.push(socket.url()));
		await page.goto(`${fixture.server.origin}/?room=${encodeURIComponent("not a room!")}`);
		await page.getByRole("status").getByText("Invalid room name").waitFor();
		expect(await page.getByRole("textbox", { name: "Message" }).isDisabled()).toBe(true);
		expect(sockets).toEqual([]);
	});

	it("sends 30 messages typed as fast as Enter can be pressed: never closed, each stored once and in order, the waiting ones saying when they go", async () => {
		const alice = await openChat(await person(), "browser-enter-30", "Alice");
		// A socket opened after this one would mean the room closed the page's (1008 for flooding).
		const reopened: string[] = [];
		alice.on("websocket", (socket) => reopened.push(socket.url()));
		const texts = Array.from({ length: 30 }, (_, i) => `quick ${i + 1}`);
		for (const text of texts) await send(alice, text);
		// Past the room's allowance (5 at once, then one a second) they wait in the page, and say so.
		await alice
			.locator("li.pending .state")
			.filter({ hasText: /^sending in \d+ s$/ })
			.waitFor();
		await stored(alice, "quick 30").waitFor({ timeout: 60_000 });
		expect(await messages(alice).locator(".text").allTextContents()).toEqual(texts);
		expect(await alice.locator("li.pending, li.failed").count()).toBe(0);
		expect(reopened).toEqual([]);
		await alice.getByRole("status").getByText("Connected").waitFor();
	}, 90_000);

	it("says it is offline when the browser is, whatever the socket says, and Connected again once back", async () => {
		const alice = await openChat(await person(), "browser-offline", "Alice");
		await alice.context().setOffline(true);
		await alice.getByRole("status").getByText("Offline: messages go when you are back online").waitFor();
		await send(alice, "typed offline");
		await alice.context().setOffline(false);
		await alice.getByRole("status").getByText("Connected").waitFor();
		await stored(alice, "typed offline").waitFor();
		expect(await messages(alice).locator(".text").allTextContents()).toEqual(["typed offline"]);
	});

	it("shows a lost connection, keeps a message sent meanwhile pending, and delivers it after reconnecting by itself", async () => {
		const persistDir = await mkdtemp(path.join(tmpdir(), "edgechat-browser-"));
		const local = await startMiniflare({ persistDir });
		const port = Number(new URL(local.origin).port);
		const alice = await openChat(await person(), "browser-reconnect", "Alice", local.origin);
		await send(alice, "before");
		await stored(alice, "before").waitFor();
		await local.stop();
		await alice
			.getByRole("status")
			.getByText(/Connection lost/)
			.waitFor();
		await send(alice, "while offline");
		await messages(alice).filter({ hasText: "while offline" }).and(alice.locator(".pending")).waitFor();

		const again = await startMiniflare({ port, persistDir });
		try {
			// No click: the page retries on its own (jittered backoff from ~0.5 s, doubling).
			await stored(alice, "while offline").waitFor();
			const bob = await openChat(await person(), "browser-reconnect", "Bob", again.origin);
			await stored(bob, "while offline").waitFor();
			// Resumed from the last id it saw: each message once, in order.
			expect(await messages(alice).locator(".text").allTextContents()).toEqual(["before", "while offline"]);
			expect(await messages(bob).locator(".text").allTextContents()).toEqual(["before", "while offline"]);
		} finally {
			await again.stop();
			await rm(persistDir, { recursive: true, force: true });
		}
	});
});
