/**
 * The chat page has no axe-core violations (WCAG 2.0 and 2.1, levels A and AA, plus axe's best
 * practices), on a desktop and a phone viewport and in the dark colour scheme, on first load and
 * mid-conversation, and in signed mode as a moderator sees it (actions menu open, edited and
 * deleted messages, the ban dialog). Headless Chromium (see ../support/browser.ts) against the
 * Worker served by workerd on loopback.
 */
import AxeBuilder from "@axe-core/playwright";
import type { BrowserContextOptions, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, startMiniflare } from "../../scripts/local-server.ts";
import type { Role } from "../../src/wire/protocol.ts";
import { person, send } from "../support/chat-page.ts";
import { usePageFixture } from "../support/page-fixture.ts";
import { signToken, TEST_SECRET } from "../support/tokens.ts";

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

/**
 * Opens the page for `room` in a browser profile of its own (at `fragment`, a signed link's
 * `#token=…`, when given), waiting until it is connected.
 */
async function openChat(
	options: BrowserContextOptions,
	room: string,
	origin = fixture.server.origin,
	fragment = "",
): Promise<Page> {
	const page = await (await person(fixture.browser, options)).newPage();
	page.on("pageerror", (error) => {
		throw error;
	});
	await page.goto(`${origin}/?room=${room}${fragment}`);
	// Connected (signed mode), or asking for a name before it connects (open mode).
	await page
		.getByRole("status")
		.getByText("Connected")
		.or(page.getByRole("dialog", { name: "Join the chat" }))
		.waitFor();
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
		// Someone who has not typed yet: the room passes each name's typing once per 2 s
		// (PROTOCOL.md), and Bob's last message began with a typing notice of its own.
		const carol = await openChat(options, room);
		await join(carol, "Carol");
		await carol.getByRole("textbox", { name: "Message" }).fill("Typing a reply");
		await alice.getByText("Carol is typing…").waitFor();
		// At least one day heading ("Today"; two if the messages straddle midnight).
		expect(await alice.locator("#messages li.day").count()).toBeGreaterThan(0);

		expect(await violations(alice)).toEqual([]);
	});

	it("has no violations with the conversation on screen: a reply and its quote, reactions, a mention, links, lines, the divider", async () => {
		const room = `a11y-${kind.replace(" ", "-")}-conversation`;
		const alice = await openChat(options, room);
		await join(alice, "Alice");
		const bob = await openChat(options, room);
		await join(bob, "Bob");
		await send(alice, "Shall we meet at the edge?");
		await send(bob, "@Alice yes!\nThe notes are at https://example.com/notes");
		await stored(alice, "The notes are at").waitFor();
		// Alice reloads, having read only her own message: the divider marks Bob's as new.
		const ownId = await stored(alice, "Shall we meet").getAttribute("data-id");
		await alice.evaluate(`localStorage.setItem("edgechat.read.${room}", "${ownId}")`);
		await alice.reload();
		await alice.getByRole("separator").waitFor();
		// Bob answers Alice's message and reacts to it; Alice sees the quote and the reaction.
		await stored(bob, "Shall we meet").getByRole("button", { name: "Reply to Alice" }).click();
		await send(bob, "Replying with a quote");
		await stored(bob, "Shall we meet").getByRole("button", { name: "React to Alice's message" }).click();
		await stored(bob, "Shall we meet").getByRole("button", { name: "React 👍" }).click();
		await stored(alice, "Replying with a quote").locator(".quote").waitFor();
		await stored(alice, "Shall we meet").getByRole("button", { name: "👍 1: Bob" }).waitFor();
		// Alice starts a reply of her own, near the length cap, with the quick reactions open.
		await stored(alice, "Replying with a quote").getByRole("button", { name: "Reply to Bob" }).click();
		await alice.getByRole("textbox", { name: "Message" }).fill("x".repeat(1_900));
		await stored(alice, "Replying with a quote").getByRole("button", { name: "React to Bob's message" }).click();
		// Both of Bob's messages concern Alice: one mentions her, one answers her.
		expect(await alice.locator(".mentions-me").count()).toBe(2);

		expect(await violations(alice)).toEqual([]);
	});
});

describe.each(VIEWPORTS.filter(([kind]) => kind !== "dark desktop"))(
	"accessibility in signed mode on a %s viewport",
	(kind, options) => {
		let signed: LocalServer;
		beforeAll(async () => {
			signed = await startMiniflare({ vars: { AUTH_SECRET: TEST_SECRET } });
		});
		afterAll(async () => {
			await signed?.stop();
		});

		/** Opens a signed link for `name` and waits for the room's welcome (the composer says "Connected" first). */
		async function openSigned(room: string, name: string, role: Role): Promise<Page> {
			const token = await signToken({ sub: `u-${name}`, name, room, role });
			const page = await openChat(options, room, signed.origin, `#token=${token}`);
			await page.locator("#members li").filter({ hasText: name }).waitFor({ state: "attached" });
			return page;
		}

		it("has no violations with moderation controls shown: actions menu open, edited and deleted messages, the ban dialog", async () => {
			const room = `a11y-signed-${kind}`;
			const alice = await openSigned(room, "Alice", "member");
			const mod = await openSigned(room, "Mod", "moderator");
			for (const line of ["Hi all", "Buy cheap watches!!!", "Oops, a typo here"]) {
				await send(alice, line);
				await stored(mod, line).waitFor();
			}
			await send(mod, "Welcome, Alice");
			const actions = (page: Page, text: string) =>
				stored(page, text).getByRole("button", { name: "Actions for Alice's message" });
			// Alice edits her typo; the moderator deletes the spam.
			await actions(alice, "Oops, a typo here").click();
			await alice.getByRole("button", { name: "Edit" }).click();
			await alice.getByRole("textbox", { name: "Edit message" }).fill("Oops, no typo now");
			await alice.keyboard.press("Enter");
			await stored(mod, "Oops, no typo now").locator(".edited").waitFor();
			await actions(mod, "Buy cheap watches!!!").click();
			await mod.getByRole("button", { name: "Delete" }).click();
			await mod.getByRole("dialog", { name: "Delete this message?" }).getByRole("button", { name: "Delete" }).click();
			await mod.locator("#messages li.deleted").waitFor();

			// The moderator's view of someone else's message, its menu open.
			await actions(mod, "Hi all").click();
			await mod.getByRole("button", { name: "Kick Alice" }).waitFor();
			expect(await violations(mod)).toEqual([]);

			// The ban dialog, asking for how long.
			await mod.getByRole("button", { name: "Ban Alice…" }).click();
			await mod.getByRole("dialog", { name: "Ban Alice?" }).getByRole("combobox", { name: "Ban for" }).waitFor();
			expect(await violations(mod)).toEqual([]);
			await mod.keyboard.press("Escape");
			await mod.getByRole("dialog", { name: "Ban Alice?" }).waitFor({ state: "hidden" });
		});

		it("has no violations for a read-only user: the disabled composer says why", async () => {
			const room = `a11y-readonly-${kind}`;
			const alice = await openSigned(room, "Alice", "member");
			await send(alice, "Read me");
			const reader = await openSigned(room, "Reader", "readonly");
			await stored(reader, "Read me").waitFor();
			await reader.getByText("Read-only: you can follow this room but not write in it.").waitFor();
			expect(await violations(reader)).toEqual([]);
		});
	},
);
