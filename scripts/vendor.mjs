#!/usr/bin/env node
/**
 * Puts the page's one third-party module where the page can load it: `linkifyjs` (finds the
 * links in a message; ARCHITECTURE.md, "Dependencies") is copied from node_modules into
 * public/vendor/, which is served with the page and ignored by git. It runs after every
 * `npm install` and `npm ci` (the `postinstall` script), so the page is complete for
 * `npm start`, the tests and `npm run deploy` alike. The page imports it as `linkifyjs` through
 * the import map in public/index.html. Plain Node, no dependency: it runs with whatever Node
 * runs npm.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const from = path.join(root, "node_modules", "linkifyjs");
const to = path.join(root, "public", "vendor");
mkdirSync(to, { recursive: true });
copyFileSync(path.join(from, "dist", "linkify.mjs"), path.join(to, "linkify.mjs"));
copyFileSync(path.join(from, "LICENSE"), path.join(to, "linkify.LICENSE.txt"));
