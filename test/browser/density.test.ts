/**
 * A conversation as dense as the chats people use, in headless Chromium against the Worker in
 * workerd: a run of one author's messages under one name and time, what one does to a message
 * shown on hover and keyboard focus, long messages folded, "New messages" while scrolled up, a
 * line when someone joins a small room, and how many one-line messages a 1280x800 screen shows.
 */
import { describe, expect, it } from "vitest";
import { composer, messages, openChat, person, send, stored } from "../support/chat-page.ts";
import { usePageFixture } from "../support/page-fixture.ts";
import { joinRich } from "../support/rich-client.ts";

// Flood control off: the tests fill rooms with dozens of messages from one client.
const fixture = usePageFixture({ vars: { RATE_LIMIT_MESSAGES: "0" } });

/** `count` messages in `room` from rich clients taking turns by `runs` ("line 1" ...). */
async function roomOf(room: string, count: number, authors: string[], runs: number) {
	const writers = await Promise.all(authors.map((name) => joinRich(fixture.server.socketUrl(room), name)));
	for (let i = 0; i < count; i++) {
		const writer = writers[Math.floor(i / runs) % writers.length];
		writer?.send(`line ${i + 1}`, `l${i + 1}`);
		// One at a time, so the ids follow the turns.
		await writer?.until(() => (writer?.messages.length ?? 0) > i);
	}
	return writers;
}

/** How many messages are wholly inside the scrolling list's visible box. */
const wholeOnScreen = (page: import("playwright-core").Page) =>
	page.evaluate<number>(`(() => {
		const box = document.getElementById("chat").getBoundingClientRect();
		return [...document.querySelectorAll("#messages li.message")].filter((item) => {
			const r = item.getBoundingClientRect();
			return r.top >= box.top && r.bottom <= box.bottom;
		}).length;
	})()`);

describe("a dense conversation", () => {
	it("shows three times as many one-line messages on a 1280x800 screen as one bubble each did (8), in a run of one author's", async () => {
		const counts: Record<string, number> = {};
		for (const [pattern, authors, runs] of [
			["one author", ["Ann"], 50],
			["runs of three", ["Ann", "Bob", "Cat"], 3],
			["turns", ["Ann", "Bob"], 1],
		] as const) {
			const room = `dense-screen-${pattern.replaceAll(" ", "-")}`;
			await roomOf(room, 50, [...authors], runs);
			const viewport = { width: 1280, height: 800 };
			const page = await openChat(await person(fixture.browser, { viewport }), fixture.server.origin, room, "Reader");
			await stored(page, "line 50").waitFor();
			counts[pattern] = await wholeOnScreen(page);
		}
		console.log(`one-line messages wholly on a 1280x800 screen: ${JSON.stringify(counts)}`);
		expect(counts["one author"]).toBeGreaterThanOrEqual(24);
		expect(counts["runs of three"]).toBeGreaterThanOrEqual(18);
		expect(counts.turns).toBeGreaterThanOrEqual(12);
	});

	it("groups one author's run under one name and time; a reply, another author or a pause starts anew", async () => {
		const room = "dense-groups";
		const page = await openChat(await person(fixture.browser), fixture.server.origin, room, "Ann");
		for (const text of ["one", "two", "three"]) {
			await send(page, text);
			await stored(page, text).waitFor();
		}
		const bob = await joinRich(fixture.server.socketUrl(room), "Bob");
		bob.send("bob's turn", "b1");
		await stored(page, "bob's turn").waitFor();
		const grouped = await messages(page).evaluateAll((items) =>
			items.map((item) => item.classList.contains("continued")),
		);
		expect(grouped).toEqual([false, true, true, false]);
		// The name is still read out on a continued message: hidden to the eye only.
		expect(await stored(page, "two").locator(".author").textContent()).toBe("Ann");
		expect(await stored(page, "two").locator(".author").isVisible()).toBe(true);
		const box = await stored(page, "two").locator(".author").boundingBox();
		expect((box?.width ?? 0) <= 1 && (box?.height ?? 0) <= 1).toBe(true);
	});

	it("shows Reply and React on hover and on keyboard focus, and keeps them in the tab order", async () => {
		const room = "dense-actions";
		const page = await openChat(await person(fixture.browser), fixture.server.origin, room, "Ann");
		await send(page, "hover me");
		const message = stored(page, "hover me");
		await message.waitFor();
		const reply = message.getByRole("button", { name: "Reply to Ann" });
		const opacity = () =>
			reply.evaluate((button) => button.ownerDocument.defaultView?.getComputedStyle(button).opacity);
		await page.mouse.move(0, 0);
		expect(await opacity()).toBe("0");
		await message.hover();
		expect(await opacity()).toBe("1");
		await page.mouse.move(0, 0);
		expect(await opacity()).toBe("0");
		await reply.focus();
		expect(await opacity()).toBe("1");
		// No reactions: no row for them; the bubble is one line of meta and one of text.
		expect(
			await message
				.locator(".reactions")
				.evaluate((box) => box.ownerDocument.defaultView?.getComputedStyle(box).position),
		).toBe("absolute");
		await page.keyboard.press("Tab");
		expect(await page.evaluate<string>("document.activeElement.getAttribute('aria-label')")).toBe(
			"React to Ann's message",
		);
	});

	it("folds a long message to its first lines with Show more, and unfolds it", async () => {
		const page = await openChat(await person(fixture.browser), fixture.server.origin, "dense-long", "Ann");
		const long = Array.from({ length: 30 }, (_, i) => `row ${i + 1}`).join("\n");
		await composer(page).fill(long);
		await composer(page).press("Enter");
		const message = stored(page, "row 1");
		await message.waitFor();
		const more = message.getByRole("button", { name: "Show more" });
		expect(await more.getAttribute("aria-expanded")).toBe("false");
		const height = () => message.locator(".text").evaluate((text) => text.getBoundingClientRect().height);
		const folded = await height();
		await more.click();
		const less = message.getByRole("button", { name: "Show less" });
		expect(await less.getAttribute("aria-expanded")).toBe("true");
		expect(await height()).toBeGreaterThan(folded * 2);
		// A short message has nothing to fold.
		await send(page, "short");
		await stored(page, "short").waitFor();
		expect(await stored(page, "short").getByRole("button", { name: "Show more" }).count()).toBe(0);
	});

	it("says New messages while scrolled up, and takes the reader down to them", async () => {
		const room = "dense-new";
		const [writer] = await roomOf(room, 60, ["Ann"], 60);
		const page = await openChat(await person(fixture.browser), fixture.server.origin, room, "Reader");
		await stored(page, "line 60").waitFor();
		const pill = page.getByRole("button", { name: "New messages" });
		expect(await pill.isHidden()).toBe(true);
		await page.evaluate(`document.getElementById("chat").scrollTop = 0`);
		writer?.send("while you read above", "w-above");
		await pill.waitFor();
		await pill.click();
		await pill.waitFor({ state: "hidden" });
		const atEnd = await page.evaluate<boolean>(
			`(() => { const chat = document.getElementById("chat"); return chat.scrollHeight - chat.scrollTop - chat.clientHeight < 2; })()`,
		);
		expect(atEnd).toBe(true);
		// At the end already, a new message needs no button.
		writer?.send("seen at once", "w-end");
		await stored(page, "seen at once").waitFor();
		expect(await pill.isHidden()).toBe(true);
	});

	it("says who joined a small room, in the conversation", async () => {
		const room = "dense-joins";
		const page = await openChat(await person(fixture.browser), fixture.server.origin, room, "Ann");
		await joinRich(fixture.server.socketUrl(room), "Bob");
		await page.locator("#messages li.notice", { hasText: /^Bob joined$/ }).waitFor();
	});
});
