/**
 * The chat page served by workerd (miniflare API) on loopback and a headless Chromium to open
 * it, started before a test file's tests and stopped after them.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { type LocalServer, type ServerOptions, startMiniflare } from "../../scripts/local-server.ts";
import { launchChromium } from "./browser.ts";

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
