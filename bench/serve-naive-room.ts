/**
 * Serves bench/naive-room-worker.js from workerd through the miniflare API, the same way
 * bench/serve-edgechat.ts serves edgechat: 127.0.0.1, a free port, storage in a temporary
 * directory (the naive room stores nothing), no inspector.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

const here = path.dirname(fileURLToPath(import.meta.url));
// The same runtime behaviour as edgechat's: its compatibility date.
const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(
	readFileSync(path.join(here, "../wrangler.toml"), "utf8"),
)?.[1];
const miniflare = new Miniflare(
	convertV4MiniflareOptions({
		host: "127.0.0.1",
		port: 0,
		workers: [
			{
				name: "naive-room",
				modules: true,
				scriptPath: path.join(here, "naive-room-worker.js"),
				compatibilityDate,
				durableObjects: { ROOMS: { className: "NaiveRoom", useSQLite: true } },
			},
		],
	}),
);
const url = await miniflare.ready;
process.send?.({ ready: Number(url.port) });
process.on("disconnect", () => {
	void miniflare.dispose().then(() => process.exit(0));
});
