// Handlers loaded in-process by tests log and emit metrics through Powertools, which writes to
// stdout directly (past jest's console capture). Keep the test output quiet unless a test asks
// for the lines; the local cluster's functions run with their own environment and log to its
// log file regardless.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
