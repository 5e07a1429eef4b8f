/** Shared by the benchmark's driver and servers. */
export const BENCH_KEYS = ['bench-key-aaaaaaaaaaaaaaaaaaaa1', 'bench-key-bbbbbbbbbbbbbbbbbbbb2']
export const BENCH_PASSWORD = 'bench-api-password'
