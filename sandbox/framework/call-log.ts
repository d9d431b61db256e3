import type { Request } from 'express';

export interface CallRecord {
  seq: number;
  at: string;
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  status?: number;
  fault?: string;
}

/** Every provider call a fake received, in order, for tests and the demo to inspect. */
export class CallLog {
  private calls: CallRecord[] = [];
  private seq = 0;

  record(req: Request): CallRecord {
    const entry: CallRecord = {
      seq: ++this.seq,
      at: new Date().toISOString(),
      method: req.method,
      path: req.path,
      query: { ...(req.query as Record<string, unknown>) },
      headers: { ...req.headers },
      body: req.body,
    };
    this.calls.push(entry);
    if (this.calls.length > 5000) this.calls.shift();
    return entry;
  }

  list(filter: { path?: string; method?: string } = {}): CallRecord[] {
    return this.calls.filter(
      (c) => (!filter.path || c.path.includes(filter.path)) && (!filter.method || c.method === filter.method.toUpperCase()),
    );
  }

  clear(): void {
    this.calls = [];
  }
}
