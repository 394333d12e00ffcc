/**
 * Requests per client address per minute that reach a room's object, counted by the Workers Rate
 * Limiting binding (`ROOM_REQUEST_LIMIT`, wrangler.toml) in the Worker, before the object is
 * reached: an upgrade, a page asking why its upgrade was refused (a plain GET of the socket URL),
 * a room's stats. Each of them wakes (or creates) an object, which is billed, so one address
 * cannot make them faster than this, whatever rooms it names. The HTTP API with its key is the
 * operator's own and is not counted. The address is the `CF-Connecting-IP` header, which
 * Cloudflare sets on every request (a client's own value is replaced), and which `wrangler dev`
 * sets to the connecting address; an IPv6 address counts by its /64 (src/wire/identity.ts).
 *
 * An address is not a person: a school, an office or a carrier's NAT puts many people behind
 * one. The limit (600 a minute) is sized for that (docs/operating.md, "Limits across connections"); an
 * operator who knows better changes it in wrangler.toml, or puts Cloudflare's WAF rate-limiting
 * rules in front (docs/operating.md, "Running a public room").
 */
import type { Config } from "../deployment/config.ts";
import { refuse } from "../wire/http.ts";
import { addressOf } from "../wire/identity.ts";

/** The binding's period (wrangler.toml `[[ratelimits]]`): what a refused client is told to wait. */
export const ROOM_REQUEST_LIMIT_PERIOD_SECONDS = 60;

/** `null` when the request may go on to the room; else the 429 answer. */
export async function limitRoomRequest(request: Request, env: Env, config: Config): Promise<Response | null> {
	const address = addressOf(request);
	if (!config.rateLimitRoomRequests || address === null) return null;
	const { success } = await env.ROOM_REQUEST_LIMIT.limit({ key: address });
	if (success) return null;
	return refuse(429, "too many requests from your address; try again in a minute", {
		"Retry-After": String(ROOM_REQUEST_LIMIT_PERIOD_SECONDS),
	});
}
