import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Three projects, split by what the tests run on:
 * - workerd: inside the Workers runtime, against wrangler.toml's own bindings;
 * - e2e: Node clients over loopback against a real local server (miniflare or `wrangler dev`);
 * - browser: headless Chromium (found by test/support/browser.ts) driven by playwright-core against a local server.
 */
export default defineConfig({
	test: {
		projects: [
			{
				// Flood control off here: these tests send bursts to test other things. It is tested
				// with the shipped settings in the workerd-limits project below.
				plugins: [
					cloudflareTest({
						wrangler: { configPath: "./wrangler.toml" },
						miniflare: { bindings: { RATE_LIMIT_MESSAGES: "0" } },
					}),
				],
				test: {
					name: "workerd",
					include: ["test/workerd/**/*.test.ts"],
					exclude: ["test/workerd/limits/**", "test/workerd/shards/**", "test/workerd/auth/**"],
				},
			},
			{
				// A room spread over objects: three connections per object, so a handful of clients
				// fill the room's own object and two shards.
				plugins: [
					cloudflareTest({
						wrangler: { configPath: "./wrangler.toml" },
						miniflare: { bindings: { RATE_LIMIT_MESSAGES: "0", SHARD_SIZE: "3", MAX_CONNECTIONS: "12" } },
					}),
				],
				test: { name: "workerd-shards", include: ["test/workerd/shards/**/*.test.ts"] },
			},
			{
				// Signed mode (AUTH_SECRET set), over a room spread on objects of three connections.
				plugins: [
					cloudflareTest({
						wrangler: { configPath: "./wrangler.toml" },
						miniflare: {
							bindings: {
								RATE_LIMIT_MESSAGES: "0",
								SHARD_SIZE: "3",
								AUTH_SECRET: "test-secret-of-at-least-32-bytes-0123456789",
							},
						},
					}),
				],
				test: { name: "workerd-auth", include: ["test/workerd/auth/**/*.test.ts"] },
			},
			{
				// wrangler.toml exactly as shipped.
				plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
				test: { name: "workerd-limits", include: ["test/workerd/limits/**/*.test.ts"] },
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
					name: "conformance",
					include: ["test/conformance/**/*.test.ts"],
					environment: "node",
					testTimeout: 30_000,
					hookTimeout: 60_000,
				},
			},
			{
				test: { name: "docs", include: ["test/docs/**/*.test.ts"], environment: "node" },
			},
			{
				test: {
					name: "bench",
					include: ["test/bench/**/*.test.ts"],
					environment: "node",
					testTimeout: 240_000,
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
