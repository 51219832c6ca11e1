import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { Metrics } from './index.ts';

describe('metrics middleware', () => {
  it('counts requests by route pattern and status, with a latency histogram', async () => {
    const m = new Metrics();
    const app = new Hono();
    app.use('*', m.middleware());
    app.get('/v1/things/:id', (c) => c.json({ id: c.req.param('id') }));
    app.get('/fail', (c) => c.json({}, 404));
    await app.request('/v1/things/a');
    await app.request('/v1/things/b');
    await app.request('/fail');
    m.inc('approvals_total', 2);
    const text = m.render({ ceremonies: { help: 'By state.', values: [[{ state: 'open' }, 3]] } });
    expect(text).toContain('embassy_http_requests_total{route="GET /v1/things/:id",status="200"} 2');
    expect(text).toContain('embassy_http_requests_total{route="GET /fail",status="404"} 1');
    expect(text).toContain('embassy_http_request_seconds_count{route="GET /v1/things/:id"} 2');
    expect(text).toContain('embassy_http_request_seconds_bucket{route="GET /v1/things/:id",le="+Inf"} 2');
    expect(text).toContain('embassy_approvals_total 2');
    expect(text).toContain('# TYPE embassy_ceremonies gauge');
    expect(text).toContain('embassy_ceremonies{state="open"} 3');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('escapes label values', () => {
    const text = new Metrics().render({ g: { help: 'x', values: [[{ l: 'a"b\\c\nd' }, 1]] } });
    expect(text).toContain('embassy_g{l="a_b_c_d"} 1');
  });
});
