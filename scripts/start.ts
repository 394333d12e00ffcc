/**
 * `npm start`: `wrangler dev` with wrangler.toml, the arguments given passed on (`npm start --
 * --port 8788`). One thing differs from running it bare: Wrangler fetches a sample `request.cf`
 * object from workers.cloudflare.com as it starts, and without a network prints a `getaddrinfo
 * ENOTFOUND` stack for it, twice, which reads as a failure; edgechat never reads `request.cf`, so
 * the fetch is turned off (`CLOUDFLARE_CF_FETCH_ENABLED=false`: Wrangler's placeholder instead).
 * Set the variable yourself to have it back. (Wrangler also prints its bindings table twice as
 * it starts: its own doing, workers-sdk issue 1173, with no switch.)
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

// Its bin, by where the package is (the package exports no path to it).
const wrangler = path.join(
	path.dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
	"bin/wrangler.js",
);
const child = spawn(process.execPath, [wrangler, "dev", ...process.argv.slice(2)], {
	stdio: "inherit",
	env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", ...process.env },
});
// Ctrl+C reaches wrangler too (same terminal); a signal sent to this process alone is passed on.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
