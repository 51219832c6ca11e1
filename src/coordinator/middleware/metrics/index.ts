/** Prometheus text metrics: request counts and latency by route, plus gauges read at scrape time. */
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class Metrics {
  private requests = new Map<string, number>();
  private latency = new Map<string, { buckets: number[]; sum: number; count: number }>();
  readonly counters = new Map<string, number>();

  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const start = performance.now();
      await next();
      const route = `${c.req.method} ${routePath(c)}`;
      const key = `${route}\0${c.res.status}`;
      this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
      const secs = (performance.now() - start) / 1000;
      const h = this.latency.get(route) ?? { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      for (const [i, b] of BUCKETS.entries()) if (secs <= b) h.buckets[i]!++;
      h.sum += secs;
      h.count++;
      this.latency.set(route, h);
    };
  }

  inc(name: string, by = 1) {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  render(gauges: Record<string, { help: string; values: [Record<string, string>, number][] }>): string {
    const lines: string[] = [];
    const labels = (l: Record<string, string>) =>
      `{${Object.entries(l)
        .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
        .join(',')}}`;
    lines.push(
      '# HELP embassy_http_requests_total HTTP requests by route and status.',
      '# TYPE embassy_http_requests_total counter',
    );
    for (const [key, n] of this.requests) {
      const [route, status] = key.split('\0');
      lines.push(`embassy_http_requests_total${labels({ route: route!, status: status! })} ${n}`);
    }
    lines.push(
      '# HELP embassy_http_request_seconds Request latency by route.',
      '# TYPE embassy_http_request_seconds histogram',
    );
    for (const [route, h] of this.latency) {
      for (const [i, b] of BUCKETS.entries()) {
        lines.push(`embassy_http_request_seconds_bucket${labels({ route, le: String(b) })} ${h.buckets[i]}`);
      }
      lines.push(`embassy_http_request_seconds_bucket${labels({ route, le: '+Inf' })} ${h.count}`);
      lines.push(`embassy_http_request_seconds_sum${labels({ route })} ${h.sum.toFixed(6)}`);
      lines.push(`embassy_http_request_seconds_count${labels({ route })} ${h.count}`);
    }
    for (const [name, n] of this.counters)
      lines.push(`# TYPE embassy_${name} counter`, `embassy_${name} ${n}`);
    for (const [name, g] of Object.entries(gauges)) {
      lines.push(`# HELP embassy_${name} ${g.help}`, `# TYPE embassy_${name} gauge`);
      for (const [l, v] of g.values) lines.push(`embassy_${name}${labels(l)} ${v}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
