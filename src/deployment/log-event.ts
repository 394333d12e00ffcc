/**
 * Structured logs: one JSON line per notable event (a connection cut off or closed by a
 * defence, a storage failure, a refused upgrade), so that whoever runs edgechat can watch a room
 * defend itself (`wrangler tail`, or Workers Logs with `[observability]` on in wrangler.toml)
 * and filter by `event`. Routine traffic is never logged.
 */

/** The events logged, each documented in docs/operating.md ("Watching it"). */
export type LoggedEvent =
	| "slow_consumer"
	| "flood_closed"
	| "storage_failed"
	| "room_full"
	| "frame_failed"
	| "bad_config"
	| "shard_unreachable"
	| "room_unreachable"
	| "api_failed"
	| "webhook_failed"
	| "webhook_handoff_failed"
	| "webhook_dropped"
	| "retention_dropped"
	| "sign_in_refused";

/** Writes one line: `{"event":..., ...fields}`; errors and failures go to the error stream. */
export function logEvent(event: LoggedEvent, fields: Record<string, unknown> = {}): void {
	const line = JSON.stringify({ event, ...fields });
	if (
		event === "storage_failed" ||
		event === "frame_failed" ||
		event === "bad_config" ||
		event === "api_failed" ||
		event === "webhook_handoff_failed" ||
		event === "webhook_dropped" ||
		event.endsWith("_unreachable")
	) {
		console.error(line);
	} else console.log(line);
}
