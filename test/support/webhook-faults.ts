/**
 * The switches of test/workerd/webhooks/resetting-worker.ts, shared by that Worker and the test
 * that drives it (test/e2e/webhooks.test.ts).
 */

/** A message whose text contains this is committed, and its events' hand-off to the queue is lost (once). */
export const RESET_MARK = "[lost before the queue]";

/** `POST` here with `?room=NAME` resets that room's object (`ctx.abort()`); answers "reset". */
export const RESET_PATH = "/test/reset";
