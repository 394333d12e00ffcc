import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Three projects, split by what the tests run on:
 * - workerd: inside the Workers runtime, against wrangler.toml's own bindings;
 * - e2e: Node clients over loopback against a real local server (miniflare or `wrangler dev`);
 * - browser: Debian's headless Chromium driven by playwright-core against a local server.
 */
export default defineConfig({
	test: {
		projects: [
			{
				plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
				test: { name: "workerd", include: ["test/workerd/**/*.test.ts"] },
			},
			{
				test: {
					name: "e2e",
					include: ["test/e2e/**/*.test.ts"],
					environment: "node",
					testTimeout: 30_000,
					hookTimeout: 60_000,
				},
			},
			{
				test: {
					name: "browser",
					include: ["test/browser/**/*.test.ts"],
					environment: "node",
					testTimeout: 30_000,
					hookTimeout: 60_000,
					// One Chromium at a time on a 2-core machine.
					fileParallelism: false,
				},
			},
		],
	},
});
