/**
 * Runs the coordinator on @hono/node-server: port 0 picks a free port. A timer closes expired
 * ceremonies; the returned `close` stops both.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Logger } from 'pino';
import { createApp } from './app.ts';
import type { Coordinator } from './index.ts';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(
  coordinator: Coordinator,
  opts: { port?: number; host?: string; log?: Logger; sweepMs?: number } = {},
): Promise<RunningServer> {
  const { app } = createApp(coordinator, opts.log ? { log: opts.log } : {});
  const host = opts.host ?? '127.0.0.1';
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: opts.port ?? 0, hostname: host }, () => resolve(s));
  });
  // Expired ceremonies are closed, and a checkpoint is signed when the log grew (sweep does both).
  const timer = setInterval(() => {
    coordinator.sweep().catch((e: Error) => opts.log?.error({ msg: 'sweep failed', err: e.message }));
  }, opts.sweepMs ?? 10_000);
  timer.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        clearInterval(timer);
        server.close(() => resolve());
      }),
  };
}
