/**
 * The chat page has no axe-core violations (WCAG 2.0 and 2.1, levels A and AA, plus axe's best
 * practices), on a desktop and a phone viewport and in the dark colour scheme, on first load and
 * mid-conversation. Headless
 * Chromium (see ../support/browser.ts) against the Worker served by workerd on loopback.
 */
import AxeBuilder from "@axe-core/playwright";
import type { BrowserContextOptions, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { usePageFixture } from "../support/page-fixture.ts";

const fixture = usePageFixture();

const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];

/**
 * Every axe violation on the page, one line per offending element: rule id, impact, the
 * element's selector and the rule's summary, so a failing test says what to fix and where.
 */
async function violations(page: Page): Promise<string[]> {
	const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();
	return results.violations.flatMap((rule) =>
		rule.nodes.map((node) => `${rule.id} (${rule.impact}) at ${node.target.join(" >> ")}: ${rule.help}`),
	);
}

/** Opens the page for `room` in a browser profile of its own, waiting until it is connected. */
async function openChat(options: BrowserContextOptions, room: string): Promise<Page> {
	const context = await fixture.browser.newContext(options);
	// Fail with the locator's own message well before the test's timeout.
	context.setDefaultTimeout(10_000);
	const page = await context.newPage();
	page.on("pageerror", (error) => {
		throw error;
	});
	await page.goto(`${fixture.server.origin}/?room=${room}`);
	await page.getByRole("status").getByText("Connected").waitFor();
	return page;
}

/** Joins as `name` through the join dialog, waiting until the room has welcomed us. */
async function join(page: Page, name: string): Promise<void> {
	const dialog = page.getByRole("dialog", { name: "Join the chat" });
	await dialog.getByRole("textbox", { name: "Your name" }).fill(name);
	await dialog.getByRole("button", { name: "Join" }).click();
	// On a phone "You are NAME" is folded away with the member list: present, not visible.
	await page.locator("#my-name").getByText(name, { exact: true }).waitFor({ state: "attached" });
}

async function send(page: Page, text: string): Promise<void> {
	const input = page.getByRole("textbox", { name: "Message" });
	await input.fill(text);
	await input.press("Enter");
}

/** A stored message: on the page, and no longer marked pending. */
const stored = (page: Page, text: string) =>
	page.getByRole("list", { name: "Messages" }).locator("li.message[data-id]").filter({ hasText: text });

const VIEWPORTS: [string, BrowserContextOptions][] = [
	["desktop", { viewport: { width: 1280, height: 800 } }],
	["phone", { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 }],
	// The page follows the system's colour scheme; the dark one has colours of its own to check.
	["dark desktop", { viewport: { width: 1280, height: 800 }, colorScheme: "dark" }],
];

describe.each(VIEWPORTS)("accessibility on a %s viewport", (kind, options) => {
	it("has no violations on first load, with the join dialog open", async () => {
		const page = await openChat(options, `a11y-${kind.replace(" ", "-")}-first`);
		await page.getByRole("dialog", { name: "Join the chat" }).waitFor();
		expect(await violations(page)).toEqual([]);
	});

	it("has no violations mid-conversation: day separator, messages both ways, someone typing, members shown", async () => {
		const room = `a11y-${kind.replace(" ", "-")}-talk`;
		const alice = await openChat(options, room);
		await join(alice, "Alice");
		const bob = await openChat(options, room);
		await join(bob, "Bob");
		const lines = ["Hi! Is anyone here?", "Yes, hello from the edge!", "<b>HTML</b> shows up as text", "Nice."];
		for (const [i, line] of lines.entries()) {
			await send(i % 2 ? bob : alice, line);
			await stored(alice, line).waitFor();
		}
		// The member list, folded away on a phone, opened as a user would to see who is here.
		const members = alice.getByRole("list", { name: "Members" });
		if (!(await members.isVisible())) await alice.getByText("2 online").click();
		await members.getByRole("listitem").filter({ hasText: "Bob" }).waitFor();
		await bob.getByRole("textbox", { name: "Message" }).fill("Typing a reply");
		await alice.getByText("Bob is typing…").waitFor();
		// At least one day heading ("Today"; two if the messages straddle midnight).
		expect(await alice.locator("#messages li.day").count()).toBeGreaterThan(0);

		expect(await violations(alice)).toEqual([]);
	});
});
