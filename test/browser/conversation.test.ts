/**
 * The conversation on the page, in headless Chromium against the Worker in workerd: scroll-back
 * that keeps the reader's place, replies and going to the original, reactions seen by another
 * page, longer messages with line breaks and links, and what a reader who looked away finds:
 * a notification for a mention, the unread count in the title, and the "New messages" divider.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { byId, composer, messages, openChat, person, send, shownIds, stored, waitUntil } from "../support/chat-page.ts";
import { usePageFixture } from "../support/page-fixture.ts";
import { joinRich } from "../support/rich-client.ts";

// Flood control off: the tests fill rooms with hundreds of messages from one client. The HTTP
// API on, for a message the site posts.
const API_KEY = "page-test-api-key-of-at-least-32-bytes";
const fixture = usePageFixture({ vars: { RATE_LIMIT_MESSAGES: "0", API_KEY } });

/** A room with `count` messages from "Writer" ("message 1" ...), and the writer. */
async function roomWith(room: string, count: number) {
	const writer = await joinRich(fixture.server.socketUrl(room), "Writer");
	for (let i = 1; i <= count; i++) writer.send(`message ${i}`, `w${i}`);
	await writer.until(() => writer.messages.length >= count);
	return writer;
}

/** Where message `id` is on the screen (its top, in CSS pixels from the viewport's top). */
const topOf = (page: Page, id: number) =>
	page.evaluate<number>(`document.querySelector('#messages li[data-id="${id}"]').getBoundingClientRect().top`);

describe("the conversation on the page", () => {
	it("loads the previous page when scrolled to the top, keeping what the reader looks at in place, to the first message", async () => {
		const room = "page-scrollback";
		await roomWith(room, 130);
		const page = await openChat(await person(fixture.browser), fixture.server.origin, room, "Reader");
		await byId(page, 130).waitFor();
		expect(await shownIds(page)).toEqual(Array.from({ length: 50 }, (_, i) => 81 + i));
		// Scrolled to the top: message 81 is the first on the screen; the page before it comes in above.
		const before = await page.evaluate<number>(
			`document.getElementById("chat").scrollTop = 0, document.querySelector('#messages li[data-id="81"]').getBoundingClientRect().top`,
		);
		await byId(page, 80).waitFor({ state: "attached" });
		expect(Math.abs((await topOf(page, 81)) - before)).toBeLessThanOrEqual(1);
		// On to the beginning, a page at a time (the button does the same for the keyboard).
		const status = page.locator("#history-status");
		while ((await status.textContent()) !== "This is the beginning of the conversation.") {
			await page.getByRole("button", { name: "Load earlier messages" }).click();
			await waitUntil(page, `!document.getElementById("history-status").textContent.startsWith("Loading")`);
		}
		expect(await shownIds(page)).toEqual(Array.from({ length: 130 }, (_, i) => i + 1));
		await expect(page.getByRole("button", { name: "Load earlier messages" }).isHidden()).resolves.toBe(true);
		// One day heading per day, each above its day's first message (pages added above included).
		const days = await page
			.locator("#messages > li")
			.evaluateAll((items) => items.map((item) => `${item.className}:${item.getAttribute("data-day")}`));
		const messageDays = days.filter((day) => day.startsWith("message")).map((day) => day.split(":")[1]);
		const firstOfEachDay = messageDays.filter((day, i) => day !== messageDays[i - 1]);
		expect(days.filter((day) => day.startsWith("day:")).map((day) => day.split(":")[1])).toEqual(firstOfEachDay);
		for (const [i, day] of days.entries()) {
			if (day.startsWith("day:")) expect(days[i + 1]).toBe(`message:${day.split(":")[1]}`);
		}
	});

	it("shows a message the site posted through the HTTP API with its name and an API badge", async () => {
		const room = "page-api-post";
		const page = await openChat(await person(fixture.browser), fixture.server.origin, room, "Reader");
		await send(page, "is anyone in charge here?");
		await stored(page, "is anyone in charge here?").waitFor();
		const posted = await fetch(`${fixture.server.origin}/api/rooms/${room}/messages`, {
			method: "POST",
			headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
			body: JSON.stringify({ name: "Site team", text: "we are, and we read everything" }),
		});
		expect(posted.status).toBe(201);
		const announcement = stored(page, "we are, and we read everything");
		await announcement.waitFor();
		await expect(announcement.locator(".author").textContent()).resolves.toBe("Site team");
		await expect(announcement.locator(".badge").textContent()).resolves.toBe("API");
		// The reader's own message has none.
		await expect(stored(page, "is anyone in charge here?").locator(".badge").count()).resolves.toBe(0);
	});

	it("replies with a quote, and following a quote to an old message pages back to it and focuses it", async () => {
		const room = "page-replies";
		const writer = await roomWith(room, 120);
		const page = await openChat(await person(fixture.browser), fixture.server.origin, room, "Reader");
		// Replying from the page: the quote above the composer, then in the message.
		await byId(page, 120).getByRole("button", { name: "Reply to Writer" }).click();
		await expect(page.locator("#reply-preview-text").textContent()).resolves.toBe("Replying to Writer: message 120");
		await send(page, "an answer");
		const answer = stored(page, "an answer");
		await answer.waitFor();
		await expect(answer.locator(".quote").textContent()).resolves.toBe("Writer message 120");
		expect(await page.locator("#reply-preview").isHidden()).toBe(true);
		await writer.until(() => writer.messages.some((message) => message.text === "an answer"));
		expect(writer.messages.find((message) => message.text === "an answer")?.replyTo).toMatchObject({ id: 120 });
		// A reply to message 1, which the page does not show: its quote goes there.
		writer.client.socket.send(JSON.stringify({ type: "send", clientId: "old", text: "about the first", replyTo: 1 }));
		const reply = stored(page, "about the first");
		await reply.getByRole("button", { name: "In reply to Writer: message 1. Go to it" }).click();
		await byId(page, 1).waitFor();
		await waitUntil(page, `document.activeElement?.getAttribute("data-id") === "1"`);
		expect(await byId(page, 1).isVisible()).toBe(true);
	});

	it("moves between the quick reactions with the arrow keys, Home and End, wrapping around", async () => {
		const page = await openChat(await person(fixture.browser), fixture.server.origin, "page-react-keys", "Ann");
		await send(page, "arrows");
		const message = stored(page, "arrows");
		await message.getByRole("button", { name: "React to Ann's message" }).click();
		const focused = () => page.evaluate<string>("document.activeElement.getAttribute('aria-label')");
		expect(await focused()).toBe("React 👍");
		const steps: [string, string][] = [
			["ArrowRight", "React ❤️"],
			["ArrowRight", "React 😂"],
			["ArrowLeft", "React ❤️"],
			["End", "React 😢"],
			["ArrowRight", "React 👍"],
			["ArrowLeft", "React 😢"],
			["Home", "React 👍"],
		];
		for (const [key, expected] of steps) {
			await page.keyboard.press(key);
			expect(await focused(), key).toBe(expected);
		}
		await page.keyboard.press("Escape");
		expect(await focused()).toBe("React to Ann's message");
	});

	it("reacts and takes a reaction back with the keyboard; another page sees both, and who reacted", async () => {
		const room = "page-reactions";
		const alice = await openChat(await person(fixture.browser), fixture.server.origin, room, "Alice");
		const bob = await openChat(await person(fixture.browser), fixture.server.origin, room, "Bob");
		await send(alice, "react to this");
		const onBob = stored(bob, "react to this");
		await onBob.getByRole("button", { name: "React to Alice's message" }).focus();
		await bob.keyboard.press("Enter");
		await onBob.getByRole("button", { name: "React 👍" }).press("Enter");
		const seen = stored(alice, "react to this").getByRole("button", { name: "👍 1: Bob" });
		await seen.waitFor();
		expect(await seen.getAttribute("aria-pressed")).toBe("false");
		const mine = onBob.getByRole("button", { name: "👍 1: Bob" });
		await mine.waitFor();
		expect(await mine.getAttribute("aria-pressed")).toBe("true");
		// Who reacted shows on keyboard focus as well as on hover (focus went back to "React"),
		// each name isolated from the others.
		await bob.keyboard.press("Shift+Tab");
		expect(await bob.evaluate<string>("document.activeElement.getAttribute('aria-label')")).toBe("👍 1: Bob");
		const hint = mine.locator(".who");
		expect(await hint.isVisible()).toBe(true);
		expect(await hint.locator("bdi").allTextContents()).toEqual(["Bob"]);
		await mine.blur();
		expect(await hint.isVisible()).toBe(false);
		await mine.hover();
		expect(await hint.isVisible()).toBe(true);
		await mine.press("Enter");
		await stored(alice, "react to this").locator(".reaction").waitFor({ state: "detached" });
	});

	it("on a phone, Enter starts a new line and Send sends, under a placeholder that fits the box", async () => {
		const phone = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true };
		const page = await openChat(await person(fixture.browser, phone), fixture.server.origin, "page-phone", "Pat");
		expect(await composer(page).getAttribute("placeholder")).toBe("Write a message…");
		// One line: the placeholder is no wider than the box it sits in.
		const fits = await page.evaluate<boolean>(`(() => {
			const box = document.getElementById("message");
			const style = getComputedStyle(box);
			const measure = document.createElement("canvas").getContext("2d");
			measure.font = style.font;
			const inner = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
			return measure.measureText(box.placeholder).width <= inner;
		})()`);
		expect(fits).toBe(true);
		await composer(page).fill("first");
		await composer(page).press("Enter");
		await composer(page).pressSequentially("second");
		expect(await composer(page).inputValue()).toBe("first\nsecond");
		await page.getByRole("button", { name: "Send" }).click();
		const message = stored(page, "first");
		await message.waitFor();
		expect(await message.locator(".text").textContent()).toBe("first\nsecond");
	});

	it("keeps line breaks with Shift+Enter, counts down near the cap, and makes links clickable", async () => {
		const page = await openChat(await person(fixture.browser), fixture.server.origin, "page-text", "Writer");
		await composer(page).fill("first line");
		await composer(page).press("Shift+Enter");
		await composer(page).pressSequentially("see https://example.com/docs?a=1 and <b>this</b>");
		await composer(page).press("Enter");
		const message = stored(page, "first line");
		await message.waitFor();
		expect(await message.locator(".text").textContent()).toBe(
			"first line\nsee https://example.com/docs?a=1 and <b>this</b>",
		);
		const link = message.getByRole("link", { name: "https://example.com/docs?a=1" });
		expect(await link.getAttribute("href")).toBe("https://example.com/docs?a=1");
		expect(await link.getAttribute("rel")).toBe("noopener noreferrer nofollow");
		expect(await message.locator("b").count()).toBe(0);
		// The text takes its direction from its own first letter, isolated from the page around it.
		expect(await message.locator(".text").getAttribute("dir")).toBe("auto");
		// A direction-changing character cannot disguise where a link goes (whether or not the room
		// lets one through, the page's own module is asked): the link reads left to right, isolated
		// from an override before it, and shows the one inside it as its address has it.
		const disguised = await page.evaluate<Record<string, string>>(`(async () => {
			const { textNodes } = await import("/message-view.js");
			const text = document.createElement("p");
			text.append(...textNodes("\\u202Eread https://example.com/\\u202Efdp.exe now", []));
			document.body.append(text);
			const link = text.querySelector("a");
			const { unicodeBidi, direction } = getComputedStyle(link);
			text.remove();
			return { text: link.textContent, href: link.href, unicodeBidi, direction };
		})()`);
		expect(disguised).toEqual({
			text: "https://example.com/%E2%80%AEfdp.exe",
			href: "https://example.com/%E2%80%AEfdp.exe",
			unicodeBidi: "isolate",
			direction: "ltr",
		});
		await composer(page).fill("x".repeat(1_850));
		await expect(page.locator("#char-count").textContent()).resolves.toBe("150 characters left");
		await composer(page).fill("x".repeat(2_003));
		await expect(page.locator("#char-count").textContent()).resolves.toBe("3 characters too many");
	});

	it("asks for notifications only when the reader clicks Notify me, and then no more", async () => {
		const context = await person(fixture.browser);
		// The headless shell says "denied" before anything is asked (it has nowhere to show a
		// notification), so the page is told "default", as a browser that has not asked yet says;
		// each request is recorded with whether a click allowed it, and made by the browser itself.
		await context.addInitScript(`
			window.asked = [];
			const ask = Notification.requestPermission.bind(Notification);
			Object.defineProperty(Notification, "permission", { get: () => (window.asked.length ? "granted" : "default") });
			Notification.requestPermission = () => {
				window.asked.push(navigator.userActivation.isActive);
				return ask();
			};
		`);
		const page = await openChat(context, fixture.server.origin, "page-notify", "Ada");
		const notify = page.getByRole("button", { name: "Notify me of mentions" });
		await notify.waitFor();
		expect(await page.evaluate<boolean[]>("asked")).toEqual([]);
		await notify.click();
		await notify.waitFor({ state: "hidden" });
		expect(await page.evaluate<boolean[]>("asked")).toEqual([true]);
	});

	it("counts unread messages in the title while hidden, notifies a mention and a reply, and marks where the reader left off", async () => {
		const room = "page-unread";
		const context = await person(fixture.browser);
		await context.grantPermissions(["notifications"], { origin: fixture.server.origin });
		// The tab is hidden and shown as when the reader switches tabs (headless Chromium has no
		// tabs to switch), and the page's notifications are recorded as the real ones are made.
		// The permission is granted through Playwright, but the headless shell reports "denied"
		// whatever is granted (it has nowhere to show a notification): the page is told "granted".
		await context.addInitScript(`
			window.notes = [];
			const Real = window.Notification;
			class Recorded extends Real {
				constructor(title, options) {
					super(title, options);
					window.notes.push(title + ": " + (options?.body ?? ""));
				}
			}
			Object.defineProperty(Recorded, "permission", { get: () => (Real.permission === "default" ? "default" : "granted") });
			window.Notification = Recorded;
			let hidden = false;
			Object.defineProperty(document, "hidden", { get: () => hidden });
			Object.defineProperty(document, "visibilityState", { get: () => (hidden ? "hidden" : "visible") });
			window.setHidden = (value) => {
				hidden = value;
				document.dispatchEvent(new Event("visibilitychange"));
			};
		`);
		const ada = await openChat(context, fixture.server.origin, room, "Ada");
		await send(ada, "I am here");
		const adaMessage = stored(ada, "I am here");
		await adaMessage.waitFor();
		const writer = await joinRich(fixture.server.socketUrl(room), "Writer");
		const adaId = Number(await adaMessage.getAttribute("data-id"));
		const title = await ada.title();

		expect(await ada.evaluate<string>("Notification.permission")).toBe("granted");
		await ada.evaluate("setHidden(true)");
		writer.send("just chatting", "c1");
		writer.send("@Ada have a look", "c2");
		writer.client.socket.send(JSON.stringify({ type: "send", clientId: "c3", text: "agreed", replyTo: adaId }));
		await stored(ada, "agreed").waitFor();
		await waitUntil(ada, `document.title.startsWith("(3) ")`);
		// The name is isolated in the title's plain text (FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE).
		expect(await ada.evaluate<string[]>("notes")).toEqual([
			`\u2068Writer\u2069 in ${room}: @Ada have a look`,
			`\u2068Writer\u2069 in ${room}: agreed`,
		]);
		expect(await stored(ada, "have a look").getAttribute("class")).toContain("mentions-me");

		await ada.evaluate("setHidden(false)");
		await waitUntil(ada, `document.title === ${JSON.stringify(title)}`);
		// The divider sits right before the first message that came while away.
		const afterDivider = await ada.evaluate<string>(
			`[...document.querySelectorAll("#messages li")].slice([...document.querySelectorAll("#messages li")].findIndex((li) => li.matches(".divider"))).find((li) => li.matches(".message"))?.textContent ?? ""`,
		);
		expect(afterDivider).toContain("just chatting");
		expect(await ada.getByRole("separator").textContent()).toBe("New messages");
		await expect(messages(ada).count()).resolves.toBe(4);
	});
});
