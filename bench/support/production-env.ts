/**
 * Imported first by the benchmark, before graphql, Apollo and Express load: the platform runs with
 * NODE_ENV=production, so the baseline in this process must too. graphql-js, for one, picks at load
 * time between its plain `instanceof` and a development-only checking version, and the bare app
 * serves roughly a quarter fewer requests/s without this (see docs/BENCHMARKS.md).
 */
process.env.NODE_ENV = 'production';
