/**
 * The chat page served by workerd (miniflare API) on loopback and a headless Chromium to open
 * it, started before a test file's tests and stopped after them. After each test, no page opened
 * in a profile from `person` (chat-page.ts) may have broken the page's security policies.
 */
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { type LocalServer, type ServerOptions, startMiniflare } from "../../scripts/local-server.ts";
import { launchChromium } from "./browser.ts";
import { policyBreaches } from "./chat-page.ts";

/** The server and the browser of one test file. */
export interface PageFixture {
	readonly server: LocalServer;
	readonly browser: Browser;
}

/**
 * Registers the file's `beforeAll`/`afterAll`; read the fields inside tests only. `options`
 * configure the server (for example `vars: { AUTH_SECRET }` for signed mode).
 */
export function usePageFixture(options: ServerOptions = {}): PageFixture {
	let started: PageFixture | undefined;
	beforeAll(async () => {
		const [server, browser] = await Promise.all([startMiniflare(options), launchChromium()]);
		started = { server, browser };
	});
	afterEach(() => {
		expect(policyBreaches.take(), "CSP violations and policy errors in the page").toEqual([]);
	});
	afterAll(async () => {
		await started?.browser.close();
		await started?.server.stop();
	});
	const get = (): PageFixture => {
		if (!started) throw new Error("the page fixture is read before its beforeAll ran");
		return started;
	};
	return {
		get server() {
			return get().server;
		},
		get browser() {
			return get().browser;
		},
	};
}
