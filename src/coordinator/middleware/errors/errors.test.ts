import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../errors.ts';
import { errorBody, onError } from './index.ts';

describe('errors middleware', () => {
  const logged: Record<string, unknown>[] = [];
  const app = new Hono();
  app.onError(onError((f) => logged.push(f)));
  app.get('/api', () => {
    throw new ApiError('wrong_state', 'the ceremony is vetoed');
  });
  app.get('/http', () => {
    throw new HTTPException(413, { message: 'too big' });
  });
  app.get('/boom', () => {
    throw new Error('secret share 0xdeadbeef at /srv/x.ts:12');
  });

  it('ApiError leaves as { error: { code, message } } with its status', async () => {
    const res = await app.request('/api');
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual(errorBody('wrong_state', 'the ceremony is vetoed'));
  });

  it('HTTPException keeps its status and gets a code', async () => {
    const res = await app.request('/http');
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: { code: 'payload_too_large', message: 'too big' } });
  });

  it('anything else is a 500 that says nothing about the internals; the detail goes to the log', async () => {
    const res = await app.request('/boom');
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(text).not.toMatch(/deadbeef|\.ts|at /);
    expect(logged.at(-1)).toMatchObject({ level: 'error', err: 'Error' });
  });
});
