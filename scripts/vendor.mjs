#!/usr/bin/env node
/**
 * Puts the page's third-party modules where the page can load them: `linkifyjs` (finds the links
 * in a message) and `@simplewebauthn/browser` (the passkey ceremonies; ARCHITECTURE.md,
 * "Dependencies") are copied from node_modules into
 * public/vendor/, which is served with the page and ignored by git. It runs after every
 * `npm install` and `npm ci` (the `postinstall` script), so the page is complete for
 * `npm start`, the tests and `npm run deploy` alike. The page imports them by name through
 * the import map in public/index.html. Plain Node, no dependency: it runs with whatever Node
 * runs npm.
 */
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const from = path.join(root, "node_modules", "linkifyjs");
const to = path.join(root, "public", "vendor");
mkdirSync(to, { recursive: true });
copyFileSync(path.join(from, "dist", "linkify.mjs"), path.join(to, "linkify.mjs"));
copyFileSync(path.join(from, "LICENSE"), path.join(to, "linkify.LICENSE.txt"));

// @simplewebauthn/browser is a tree of small ES modules: its .js files, as they are.
const webauthn = path.join(root, "node_modules", "@simplewebauthn", "browser");
const webauthnTo = path.join(to, "simplewebauthn");
for (const entry of readdirSync(path.join(webauthn, "esm"), { recursive: true, withFileTypes: true })) {
	if (!entry.isFile() || !entry.name.endsWith(".js")) continue;
	const relative = path.relative(path.join(webauthn, "esm"), path.join(entry.parentPath, entry.name));
	mkdirSync(path.dirname(path.join(webauthnTo, relative)), { recursive: true });
	copyFileSync(path.join(entry.parentPath, entry.name), path.join(webauthnTo, relative));
}
copyFileSync(path.join(webauthn, "LICENSE.md"), path.join(to, "simplewebauthn.LICENSE.md"));
