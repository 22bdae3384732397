import { Injectable } from '@nestjs/common';
import type { ApolloServerPlugin } from '@apollo/server';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Prometheus metrics on a registry of our own (tests start several apps in one process). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly graphqlRequests = new Counter({
    name: 'lutece_graphql_requests_total',
    help: 'GraphQL operations by operation name, type and outcome',
    labelNames: ['operation', 'type', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly graphqlDuration = new Histogram({
    name: 'lutece_graphql_request_duration_seconds',
    help: 'GraphQL operation latency',
    labelNames: ['operation', 'type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly httpRequests = new Histogram({
    name: 'lutece_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'lutece_' });
  }

  graphqlPlugin(): ApolloServerPlugin {
    const requests = this.graphqlRequests;
    const duration = this.graphqlDuration;
    return {
      async requestDidStart() {
        const started = process.hrtime.bigint();
        let operation = 'unknown';
        let type = 'unknown';
        return {
          async didResolveOperation({ operationName, operation: document }) {
            // Operation names are client-chosen: cap them to keep label cardinality bounded.
            operation = (operationName ?? 'anonymous').slice(0, 64);
            type = document?.operation ?? 'unknown';
          },
          async willSendResponse({ response }) {
            const failed = response.body.kind === 'single' && Boolean(response.body.singleResult.errors?.length);
            requests.inc({ operation, type, outcome: failed ? 'error' : 'ok' });
            duration.observe({ operation, type }, Number(process.hrtime.bigint() - started) / 1e9);
          },
        };
      },
    };
  }
}
