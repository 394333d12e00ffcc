/**
 * The settings every benchmarked edgechat server runs with: flood control off (the load is the
 * point) and room capacity raised. Persistence and the inspector are off by default.
 */
export const BENCH_VARS = { RATE_LIMIT_MESSAGES: "0", MAX_CONNECTIONS: "10000" };
