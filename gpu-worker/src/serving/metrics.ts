import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * What a serving worker measures, in Prometheus' text format. No label names a tenant, an endpoint
 * or a model: those belong to the api's audit and usage records, and would multiply series here.
 */
export class ServingMetrics {
  readonly registry = new Registry();
  /** Rows per coalesced predict: how well dynamic batching works. */
  readonly batchSize = new Histogram({
    name: 'lutece_worker_inference_batch_size',
    help: 'Input rows per coalesced model.predict call',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });
  readonly batchSeconds = new Histogram({
    name: 'lutece_worker_inference_batch_seconds',
    help: 'Duration of one coalesced model.predict call',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly calls = new Counter({ name: 'lutece_worker_inference_calls_total', help: 'Predict calls answered', labelNames: ['outcome', 'cold_start'], registers: [this.registry] });
  readonly loadSeconds = new Histogram({
    name: 'lutece_worker_model_load_seconds',
    help: 'Time to decrypt, parse, load and warm up a model version (a cold start)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly modelsLoaded = new Gauge({ name: 'lutece_worker_models_loaded', help: 'Model versions held in memory', registers: [this.registry] });
  readonly endpointsServed = new Gauge({ name: 'lutece_worker_endpoints_served', help: 'Endpoints this worker holds a replica of', registers: [this.registry] });
}

/** GET /metrics on `port` (0: any free port); resolves with the port listened on. */
export async function startMetricsServer(metrics: ServingMetrics, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
