/**
 * Driving the chat page in the browser tests: a browser profile per person, the page opened and
 * joined, the composer, and locators for messages. Waits are on the page's own state, never on
 * timers.
 */
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from "playwright-core";

/** A browser profile of its own (its own localStorage and permissions): one person. */
export async function person(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
	const context = await browser.newContext(options);
	// Fail with the locator's own message well before the test's timeout.
	context.setDefaultTimeout(10_000);
	return context;
}

/** Opens the page of `room` on `origin` and joins as `name`, waiting until the room has welcomed it. */
export async function openChat(context: BrowserContext, origin: string, room: string, name: string): Promise<Page> {
	const page = await context.newPage();
	page.on("pageerror", (error) => {
		throw error;
	});
	await page.goto(`${origin}/?room=${room}`);
	await page.getByRole("status").getByText("Connected").waitFor();
	const dialog = page.getByRole("dialog", { name: "Join the chat" });
	await dialog.getByRole("textbox", { name: "Your name" }).fill(name);
	await dialog.getByRole("button", { name: "Join" }).click();
	await page.locator("#my-name").getByText(name, { exact: true }).waitFor({ state: "attached" });
	return page;
}

/** The message box. */
export const composer = (page: Page): Locator => page.getByRole("textbox", { name: "Message" });

/** Types `text` and sends it with Enter. */
export async function send(page: Page, text: string): Promise<void> {
	await composer(page).fill(text);
	await composer(page).press("Enter");
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
