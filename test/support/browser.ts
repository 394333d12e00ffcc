/**
 * A headless Chromium for the browser tests and `npm run screenshot`, driven by playwright-core,
 * found without system packages or a browser download (machines here cannot reach one).
 *
 * Where the browser comes from, first match wins:
 * 1. `CHROMIUM_PATH`, when set (and then only it: a wrong override fails rather than quietly
 *    testing another browser);
 * 2. a Chromium or Chrome installed where people usually have one;
 * 3. the Chromium that playwright-core expects in its own cache after
 *    `npx playwright install chromium`;
 * 4. on Linux x64, the headless Chromium packed inside the dev dependency `@sparticuz/chromium`,
 *    unpacked on first use (about 1.5 s) into a directory of the temp directory named after the
 *    package's version, and kept there for later runs.
 * Nothing found is an error listing every place tried, never a skipped test.
 */
import { execFile } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { type Browser, chromium } from "playwright-core";

/** A browser executable and where it was found, for the test output. */
export interface ChromiumChoice {
	/** The executable to launch. */
	readonly path: string;
	/** Where it came from, in words (e.g. "CHROMIUM_PATH", "@sparticuz/chromium"). */
	readonly source: string;
	/** Extra flags this particular build needs. */
	readonly args: readonly string[];
}

/** Places a system-wide Chromium or Chrome usually lives, per platform. */
const INSTALLED: Partial<Record<NodeJS.Platform, readonly string[]>> = {
	linux: [
		"/usr/bin/chromium", // Debian
		"/usr/bin/chromium-browser", // Ubuntu, Fedora
		"/usr/bin/google-chrome",
		"/usr/bin/google-chrome-stable",
		"/snap/bin/chromium",
	],
	darwin: [
		"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
		"/Applications/Chromium.app/Contents/MacOS/Chromium",
	],
};

/**
 * Flags for every launch on these offline machines: without the background-networking ones,
 * Chromium keeps trying to reach Google's hosts and is refused, many connections at a time.
 */
const COMMON_ARGS = [
	"--no-sandbox",
	"--disable-gpu",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--disable-quic",
];

/**
 * The packaged Chromium is a headless shell built to run without a zygote process. Its package
 * also exports launch `args`, deliberately not used: they include `--single-process` (closing
 * one browser context then ends the whole browser) and `--disable-web-security` (no same-origin
 * policy, which would hollow out the page's safety tests).
 */
const PACKAGED_ARGS = ["--no-zygote"];

function isExecutable(file: string): boolean {
	try {
		accessSync(file, constants.X_OK);
		return true;
	} catch {
		return false;
	}
}

/**
 * Unpacks `@sparticuz/chromium`'s browser once per package version and returns its executable.
 *
 * The package itself always unpacks to `os.tmpdir()/chromium` and trusts whatever file is there:
 * a run interrupted mid-unpack, or an older version of the package, would leave a broken or
 * stale browser that every later run picks up. So it unpacks in a child process whose `TMPDIR`
 * is a fresh staging directory, which is then renamed into place in one step: the versioned
 * directory either holds a complete browser or does not exist.
 */
async function unpackPackagedChromium(): Promise<string> {
	const require = createRequire(import.meta.url);
	const entry = require.resolve("@sparticuz/chromium"); // <package>/build/index.js
	const manifest = path.join(path.dirname(entry), "..", "package.json");
	const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version: string };
	const home = path.join(tmpdir(), `edgechat-sparticuz-chromium-${version}`);
	const executable = path.join(home, "chromium");
	if (isExecutable(executable)) return executable;

	const staging = await mkdtemp(`${home}.partial-`);
	try {
		const unpack = `import(${JSON.stringify(pathToFileURL(entry).href)}).then((m) => m.default.executablePath())`;
		await promisify(execFile)(process.execPath, ["--input-type=module", "-e", unpack], {
			env: { ...process.env, TMPDIR: staging },
		});
		await rename(staging, home).catch((error: NodeJS.ErrnoException) => {
			// Another run finished first: its copy is as good as ours.
			if (!isExecutable(executable)) throw error;
		});
	} finally {
		await rm(staging, { recursive: true, force: true });
	}
	return executable;
}

/**
 * Finds a Chromium to launch, in the order this module's header gives.
 * @throws an Error listing every place tried, when none fits.
 */
export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<ChromiumChoice> {
	const override = env.CHROMIUM_PATH;
	if (override !== undefined && override !== "") {
		if (isExecutable(override)) return { path: override, source: "CHROMIUM_PATH", args: [] };
		throw new Error(
			`CHROMIUM_PATH is ${override}, but no executable file is there. Point it at a Chromium or Chrome binary, or unset it to let the tests find one.`,
		);
	}

	const tried: string[] = [];
	for (const candidate of INSTALLED[process.platform] ?? []) {
		if (isExecutable(candidate)) return { path: candidate, source: "installed", args: [] };
		tried.push(`${candidate} (not there)`);
	}

	const playwrights = chromium.executablePath();
	if (isExecutable(playwrights)) return { path: playwrights, source: "Playwright's cache", args: [] };
	tried.push(`${playwrights} (Playwright's cache: not there)`);

	if (process.platform === "linux" && process.arch === "x64") {
		try {
			return { path: await unpackPackagedChromium(), source: "@sparticuz/chromium", args: PACKAGED_ARGS };
		} catch (error) {
			tried.push(`@sparticuz/chromium (${error instanceof Error ? error.message : String(error)})`);
		}
	} else {
		tried.push(`@sparticuz/chromium (Linux x64 only; this is ${process.platform} ${process.arch})`);
	}

	throw new Error(
		[
			"No Chromium found for the browser tests. Tried:",
			...tried.map((line) => `  - ${line}`),
			"Set CHROMIUM_PATH to a Chromium or Chrome executable, or run `npx playwright install chromium`.",
		].join("\n"),
	);
}

/**
 * Launches headless Chromium (see {@link findChromium}) and says on stdout which one it is.
 * Playwright gives every launch a fresh temporary profile (its own `--user-data-dir`), so runs
 * never share state.
 */
export async function launchChromium(): Promise<Browser> {
	const choice = await findChromium();
	let browser: Browser;
	try {
		browser = await chromium.launch({
			executablePath: choice.path,
			headless: true,
			args: [...COMMON_ARGS, ...choice.args],
		});
	} catch (error) {
		// Playwright's own message is a long call log; its first line says what went wrong.
		const first = (error instanceof Error ? error.message : String(error)).split("\n")[0];
		throw new Error(`Chromium at ${choice.path} (${choice.source}) did not start: ${first}`);
	}
	console.log(`browser: ${browser.browserType().name()} ${browser.version()} from ${choice.source} (${choice.path})`);
	return browser;
}
