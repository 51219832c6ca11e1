import { Writable } from 'node:stream';
import { Hono } from 'hono';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { accessLog } from './index.ts';

describe('access-log middleware', () => {
  it('logs one JSON line per request with a request id, route, status, duration and principal — never bodies or headers', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const app = new Hono();
    app.use('*', accessLog(pino({}, sink)));
    app.post('/v1/ceremonies/:id/decisions', async (c) => {
      c.set('caller' as never, { id: 'custodian-1' } as never);
      await c.req.text();
      return c.json({ ok: true }, 201);
    });
    const res = await app.request('/v1/ceremonies/cer-1/decisions?pin=1234', {
      method: 'POST',
      body: JSON.stringify({ share: 'c2VjcmV0LXNoYXJl' }),
      headers: { 'content-type': 'application/json', 'embassy-signature': 'SIGNATURE-VALUE' },
    });
    expect(res.status).toBe(201);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({
      requestId: id,
      method: 'POST',
      route: '/v1/ceremonies/:id/decisions',
      status: 201,
      principal: 'custodian-1',
    });
    expect(typeof entry.ms).toBe('number');
    expect(lines[0]).not.toMatch(/c2VjcmV0|SIGNATURE-VALUE|1234|cer-1/);
  });
});
