// Prometheus metrics (prom-client), one registry per app instance so tests do not share state.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  webhooks: Counter<'topic' | 'outcome'>;
  flowActions: Counter<'handle' | 'outcome'>;
  proxyRequests: Counter<'route' | 'outcome'>;
  storefrontEventsDropped: Counter<'reason'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'shopml_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'shopml_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    webhooks: new Counter({
      name: 'shopml_webhooks_total',
      help: 'Webhooks by topic and outcome (accepted, duplicate, stale, suppressed, quarantined, rejected, unavailable)',
      labelNames: ['topic', 'outcome'],
      registers: [registry],
    }),
    flowActions: new Counter({
      name: 'shopml_flow_requests_total',
      help: 'Flow action and lifecycle requests by handle and outcome',
      labelNames: ['handle', 'outcome'],
      registers: [registry],
    }),
    proxyRequests: new Counter({
      name: 'shopml_proxy_requests_total',
      help: 'App proxy requests by route and outcome',
      labelNames: ['route', 'outcome'],
      registers: [registry],
    }),
    storefrontEventsDropped: new Counter({
      name: 'shopml_storefront_events_dropped_total',
      help: 'Storefront events (impressions, clicks) not recorded, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
