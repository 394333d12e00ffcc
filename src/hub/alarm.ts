/**
 * The object's one alarm. A Durable Object has a single alarm, and several parts need waking:
 * liveness (src/hub/liveness.ts), the webhook outbox (src/room/webhook-outbox.ts), retention by age
 * (src/room/policies.ts). Each asks for it by a time through `alarmBy`, which only ever moves it
 * sooner, so no part's wake is lost to another's; when it fires, the object's `alarm()` lets each
 * part do what is due and ask again.
 */

/** The part of the object's storage the alarm is: read and set. */
export type AlarmStorage = Pick<DurableObjectStorage, "getAlarm" | "setAlarm">;

/** Makes sure the alarm fires by `at` (ms since the epoch): set unless it is already due sooner. */
export async function alarmBy(storage: AlarmStorage, at: number): Promise<void> {
	const set = await storage.getAlarm();
	if (set === null || set > at) await storage.setAlarm(at);
}
