import client from 'prom-client';

/** The hub's Prometheus metrics; one registry per hub so tests can run several hubs in one process. */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const events = new client.Counter({
    name: 'dingbridge_events_total',
    help: 'Inbound events by outcome (received, stored, duplicate, rejected)',
    labelNames: ['outcome', 'type'] as const,
    registers: [registry],
  });
  const steps = new client.Counter({
    name: 'dingbridge_steps_total',
    help: 'Step attempts by outcome (succeeded, retried, failed, needs_reauth)',
    labelNames: ['outcome', 'action'] as const,
    registers: [registry],
  });
  const stepSeconds = new client.Histogram({
    name: 'dingbridge_step_duration_seconds',
    help: 'Duration of one step attempt',
    labelNames: ['action'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const queueDepth = new client.Gauge({
    name: 'dingbridge_queue_depth',
    help: 'Jobs waiting, delayed or active, per queue and state',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
  });
  return { registry, events, steps, stepSeconds, queueDepth };
}

export type Metrics = ReturnType<typeof createMetrics>;
