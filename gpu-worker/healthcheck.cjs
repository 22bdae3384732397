#!/usr/bin/env node
'use strict';
/**
 * Liveness of a gpu-worker, for the image's HEALTHCHECK and the chart's exec probes.
 *
 * A worker is alive when its registration is in Redis: it writes `<REDIS_PREFIX>:worker:<node>-<id>`
 * (JSON WorkerInfo) at start and on every heartbeat, with a TTL, so the entry disappears when the
 * heartbeat stops (src/contracts/training.ts: redisKeys.worker, WORKER_REGISTRATION_TTL_SECONDS).
 * `<node>` is WORKER_NODE, or the host name (the pod name in Kubernetes) when it is unset.
 *
 * Exit 0: this worker's registration exists, or Redis cannot be reached (a Redis outage is not
 * this process's fault, and restarting every worker would only lose their in-flight batches).
 * Exit 1: Redis answers and this worker is not registered: its heartbeat loop is dead or stuck.
 *
 * Plain CommonJS with no build step; only ioredis, already a dependency of the worker.
 */
const { hostname } = require('node:os');

const TIMEOUT_MS = Number(process.env.HEALTHCHECK_TIMEOUT_MS || 4000);

function globEscape(text) {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

async function registered(redis, prefix, node) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${globEscape(prefix)}:worker:${globEscape(node)}-*`, 'COUNT', 200);
    cursor = next;
    if (keys.length > 0) {
      const values = await redis.mget(...keys);
      for (const value of values) {
        try {
          if (value && JSON.parse(value).node === node) return true;
        } catch {
          // Not a WorkerInfo: ignore it.
        }
      }
    }
  } while (cursor !== '0');
  return false;
}

async function main() {
  const url = process.env.REDIS_URL;
  if (!url) {
    process.stderr.write('healthcheck: REDIS_URL is not set\n');
    return 1;
  }
  const prefix = process.env.REDIS_PREFIX || 'lutece';
  const node = process.env.WORKER_NODE || hostname();
  const Redis = require('ioredis');
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: Math.min(2000, TIMEOUT_MS),
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    try {
      await redis.connect();
    } catch (error) {
      process.stdout.write(`healthcheck: Redis unreachable (${error && error.code ? error.code : 'error'}); not the worker's fault\n`);
      return 0;
    }
    let alive;
    try {
      alive = await registered(redis, prefix, node);
    } catch (error) {
      process.stdout.write(`healthcheck: Redis failed to answer (${error && error.name ? error.name : 'error'}); not the worker's fault\n`);
      return 0;
    }
    if (alive) return 0;
    process.stderr.write(`healthcheck: no live registration for worker node ${node} under ${prefix}:worker:*\n`);
    return 1;
  } finally {
    redis.disconnect();
  }
}

const deadline = setTimeout(() => {
  // A Redis that accepts the connection but does not answer: same verdict as unreachable.
  process.stdout.write('healthcheck: Redis did not answer in time; not the worker\'s fault\n');
  process.exit(0);
}, TIMEOUT_MS);
deadline.unref();

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`healthcheck: ${error && error.message ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
