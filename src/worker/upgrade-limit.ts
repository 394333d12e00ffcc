/**
 * Upgrades per client address per minute, counted by the Workers Rate Limiting binding
 * (`UPGRADE_LIMIT`, wrangler.toml) in the Worker, before any room's object is reached: one
 * address cannot open sockets faster than that, whatever rooms it asks for. The address is the
 * `CF-Connecting-IP` header, which Cloudflare sets on every request (a client's own value is
 * replaced), and which `wrangler dev` sets to the connecting address.
 *
 * An address is not a person: a school, an office or a carrier's NAT puts many people behind
 * one. The limit (600 a minute) is sized for that (README.md, "Limits across connections"); an
 * operator who knows better changes it in wrangler.toml, or keys on users instead in signed mode.
 */
import type { Config } from "../config.ts";
import { refuse } from "../wire/http.ts";

/** The binding's period (wrangler.toml `[[ratelimits]]`): what a refused client is told to wait. */
export const UPGRADE_LIMIT_PERIOD_SECONDS = 60;

/** `null` when the upgrade may go on; else the 429 answer. */
export async function limitUpgrade(request: Request, env: Env, config: Config): Promise<Response | null> {
	const address = request.headers.get("CF-Connecting-IP");
	if (!config.rateLimitUpgrades || address === null) return null;
	const { success } = await env.UPGRADE_LIMIT.limit({ key: address });
	if (success) return null;
	return refuse(429, "too many connections from your address; try again in a minute", {
		"Retry-After": String(UPGRADE_LIMIT_PERIOD_SECONDS),
	});
}
