/**
 * V8 flags for the long-lived daemon (eventfs without -f re-runs itself with them): a 2 MiB young
 * generation instead of V8's default of up to 16 MiB per semi-space. A mount allocates little per
 * request and keeps most of what it allocates, so a big nursery only adds resident memory (about
 * 600 B per queued message at 45,000 messages, bench/run.ts "memory") at no measurable speed.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
