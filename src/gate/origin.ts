/**
 * Cross-site WebSocket hijacking defence. Browsers send cookies and ambient credentials with a
 * WebSocket upgrade from any page and do not apply CORS to it, so the server itself must refuse
 * upgrades started by pages it does not trust. Browsers always send `Origin` on an upgrade;
 * non-browser clients usually send none.
 */
import type { Config } from "../deployment/config.ts";

/** Hosts that are always trusted: a page served from this machine during development. */
const LOCAL_HOSTNAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The outcome of an origin check: allowed, or a one-line reason to refuse with 403. */
export type OriginCheck = { ok: true } | { ok: false; reason: string };

/**
 * Allowed: no `Origin` (unless `ALLOW_MISSING_ORIGIN` is false); the page's own host (any
 * scheme, so http/https and ws/wss agree); `localhost`, `127.0.0.1` and `[::1]` on any port;
 * and every origin listed in `ALLOWED_ORIGINS` (`*` allows all).
 */
export function checkOrigin(request: Request, config: Config): OriginCheck {
	const origin = request.headers.get("Origin");
	if (origin === null) {
		return config.allowMissingOrigin ? { ok: true } : { ok: false, reason: "an Origin header is required" };
	}
	if (config.allowedOrigins.includes("*") || config.allowedOrigins.includes(origin)) return { ok: true };
	let parsed: URL;
	try {
		parsed = new URL(origin);
	} catch {
		return { ok: false, reason: `origin ${JSON.stringify(origin.slice(0, 100))} is not allowed` };
	}
	if (parsed.host === new URL(request.url).host || LOCAL_HOSTNAMES.has(parsed.hostname)) return { ok: true };
	return { ok: false, reason: `origin ${parsed.origin} is not allowed` };
}

/**
 * The strict check, for a socket that something the browser sends by itself admits (a session
 * cookie, an Access cookie): a browser's `Origin` must be exactly the page's own origin (no
 * `ALLOWED_ORIGINS`, no other port of `localhost`). Without `Origin` it is not a browser, so no
 * page can be riding on its credentials, and the usual rule for missing origins applies.
 */
export function checkOwnOrigin(request: Request, config: Config): OriginCheck {
	const origin = request.headers.get("Origin");
	if (origin === null) return checkOrigin(request, config);
	if (origin === new URL(request.url).origin) return { ok: true };
	return {
		ok: false,
		reason: `origin ${origin.slice(0, 100)} may not open a signed-in socket: only this chat's own page may`,
	};
}
