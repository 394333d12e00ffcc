/**
 * Driving the chat page in the browser tests: a browser profile per person, the page opened and
 * joined, the composer, and locators for messages. Waits are on the page's own state, never on
 * timers.
 *
 * Every profile made by `person` also watches the page's security policies (public/_headers):
 * each Content-Security-Policy violation its pages report (the `securitypolicyviolation` event,
 * caught from the first script on) and each console message in which the browser reports one, or
 * a policy header it could not apply, is kept in `policyBreaches`; `usePageFixture` fails any
 * test after which one is left. So every browser test, whatever feature it drives, is also a test
 * that the page does it under its policy.
 */
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from "playwright-core";

/** What the browser says in the console when it blocks something by a policy or cannot apply one. */
const POLICY_MESSAGE = /Content[- ]Security[- ]Policy|Permissions[- ]Policy|X-Frame-Options|Refused to/i;

/** The policy breaches seen by the profiles `person` made, in order. */
class PolicyBreaches {
	#seen: string[] = [];
	#waiting: (() => void)[] = [];

	add(breach: string): void {
		this.#seen.push(breach);
		for (const wake of this.#waiting.splice(0)) wake();
	}

	/** Every breach seen since the last `take`, forgotten as it is handed out. */
	take(): string[] {
		return this.#seen.splice(0);
	}

	/** Resolves once the breaches waiting to be taken satisfy `enough`. */
	async until(enough: (seen: readonly string[]) => boolean): Promise<void> {
		while (!enough(this.#seen)) await new Promise<void>((wake) => this.#waiting.push(wake));
	}
}

export const policyBreaches = new PolicyBreaches();

/**
 * Runs in every page and frame before its own scripts: hands each policy violation to the test.
 * Playwright runs it through the DevTools protocol, which no page policy restricts.
 */
const WATCH_POLICY = `addEventListener("securitypolicyviolation", (event) => {
	globalThis.__edgechatPolicyViolation(
		event.effectiveDirective + " blocked " + (event.blockedURI || "inline") + " (" + event.disposition + ") at " +
			event.sourceFile + ":" + event.lineNumber + ": " + (event.sample || ""),
	);
}, true);`;

/** A browser profile of its own (its own localStorage and permissions): one person. */
export async function person(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
	const context = await browser.newContext(options);
	// Fail with the locator's own message well before the test's timeout.
	context.setDefaultTimeout(10_000);
	await context.exposeBinding("__edgechatPolicyViolation", ({ frame }, line: string) =>
		policyBreaches.add(`${frame.url()}: ${line}`),
	);
	await context.addInitScript(WATCH_POLICY);
	context.on("console", (message) => {
		if (POLICY_MESSAGE.test(message.text())) policyBreaches.add(`console ${message.type()}: ${message.text()}`);
	});
	return context;
}

/** Opens the page of `room` on `origin` and joins as `name`, waiting until the room has welcomed it. */
export async function openChat(context: BrowserContext, origin: string, room: string, name: string): Promise<Page> {
	const page = await context.newPage();
	page.on("pageerror", (error) => {
		throw error;
	});
	await page.goto(`${origin}/?room=${room}`);
	// A name is asked for before the socket opens (the room lets go of one that says no hello).
	const dialog = page.getByRole("dialog", { name: "Join the chat" });
	await dialog.getByRole("textbox", { name: "Your name" }).fill(name);
	await dialog.getByRole("button", { name: "Join" }).click();
	await page.locator("#my-name").getByText(name, { exact: true }).waitFor({ state: "attached" });
	return page;
}

/**
 * Waits until `expression` (JavaScript, read in the page) is true. Not `page.waitForFunction` with
 * the string itself: Playwright polls a string with `eval` inside the page, which the page's
 * Content-Security-Policy (no 'unsafe-eval') refuses as soon as the answer is not there at once.
 * The source of a function goes through the DevTools protocol, which no page policy restricts.
 */
export async function waitUntil(page: Page, expression: string): Promise<void> {
	await page.waitForFunction(new Function(`return (${expression});`) as () => boolean);
}

/** The message box. */
export const composer = (page: Page): Locator => page.getByRole("textbox", { name: "Message" });

/** Types `text` and sends it with Enter, or on a touch screen (where Enter starts a new line) with Send. */
export async function send(page: Page, text: string): Promise<void> {
	await composer(page).fill(text);
	if (await page.evaluate<boolean>(`matchMedia("(pointer: coarse) and (hover: none)").matches`)) {
		await page.getByRole("button", { name: "Send" }).click();
	} else {
		await composer(page).press("Enter");
	}
}

/** Every message item, stored or pending. */
export const messages = (page: Page): Locator => page.getByRole("list", { name: "Messages" }).locator("li.message");

/** A stored message (no longer pending) that shows `text`. */
export const stored = (page: Page, text: string): Locator =>
	messages(page).filter({ hasText: text }).and(page.locator("li[data-id]"));

/** The stored message with log id `id`. */
export const byId = (page: Page, id: number | string): Locator => page.locator(`#messages li.message[data-id="${id}"]`);

/** The ids of the stored messages shown, in order. */
export function shownIds(page: Page): Promise<number[]> {
	return page
		.locator("#messages li.message[data-id]")
		.evaluateAll((items) => items.map((item) => Number(item.getAttribute("data-id"))));
}
