import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, embassy, exportAndVerify, type Run } from './run.ts';

// Exit status 0 for every command that succeeds (docs/DECISIONS.md#d24), through bin/embassy.mjs,
// over one demo deployment and one `embassy serve`.
const root = mkdtempSync(join(tmpdir(), 'embassy-exit-good-'));
const dir = join(root, 'deployment');
let server: ChildProcess;
let url = '';

const ok = (r: Run) => {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.toString();
};

beforeAll(async () => {
  ok(embassy(['demo', '--data-dir', dir]));
  server = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dir], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  url = await new Promise<string>((resolve, reject) => {
    server.stdout!.on('data', (d: Buffer) => resolve(d.toString().trim()));
    server.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
}, 120_000);

afterAll(() => {
  if (server?.exitCode === null) server.kill('SIGKILL');
});

describe('exit status 0', () => {
  it('keygen, seal, open (into a file and into a FIFO), inspect, --help', async () => {
    const key = join(root, 'key.txt');
    const pub = ok(embassy(['keygen', '-o', key]))
      .trim()
      .split('\n')
      .at(-1)!;
    const data = Buffer.alloc(50_000, 'parcel;owner\n');
    writeFileSync(join(root, 'in.csv'), data);
    const sealed = join(root, 'in.emb');
    ok(embassy(['seal', '-r', pub, '-o', sealed, join(root, 'in.csv')]));
    ok(embassy(['open', '-i', key, '-o', join(root, 'out.csv'), sealed]));
    ok(embassy(['inspect', sealed]));
    expect(embassy(['seal', '--help']).status).toBe(0);

    const fifo = join(root, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const chunks: Buffer[] = [];
    const read = new Promise<void>((res, rej) =>
      createReadStream(fifo)
        .on('data', (c) => chunks.push(c as Buffer))
        .on('end', res)
        .on('error', rej),
    );
    const child = spawn(process.execPath, [BIN, 'open', '-i', key, '-o', fifo, sealed], { stdio: 'ignore' });
    const status = await new Promise<number | null>((res) => child.on('exit', res));
    await read;
    expect(status).toBe(0);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect(statSync(fifo).isFIFO()).toBe(true);
  }, 60_000);

  it('snapshot, station, custodian, audit, jobs and ceremony on a deployment; serve on SIGTERM', async () => {
    const as = (id: string) => ['--coordinator', url, '--data-dir', dir, '--as', id];
    const keyOf = (id: string) => ['--key', join(dir, `${id}.pem`)];
    const job = [...as('backup-job'), ...keyOf('backup-job')];
    const station = [...as('station-lux'), ...keyOf('station-lux')];
    const sealed = join(root, 'land.emb');
    ok(
      embassy([
        'snapshot',
        'seal',
        ...job,
        '--domain',
        'land',
        '--snapshot-id',
        'land-exit-1',
        '-o',
        sealed,
        join(dir, 'registries', 'land-register.csv'),
      ]),
    );
    ok(embassy(['snapshot', 'register', sealed, ...job]));
    expect(ok(embassy(['snapshot', 'list', ...job]))).toContain('land-exit-1');
    const id = ok(
      embassy([
        'station',
        'request',
        ...station,
        '--domain',
        'land',
        '--snapshot',
        'land-exit-1',
        '--legal-basis',
        'DRILL',
        '--case',
        'DRILL-EXIT',
        '--reason',
        'exit statuses',
      ]),
    ).trim();
    ok(embassy(['station', 'status', id, ...station]));
    ok(embassy(['custodian', 'pending', ...as('custodian-2'), '--dev']));
    for (const c of ['custodian-2', 'custodian-4', 'custodian-5']) {
      const r = embassy(['custodian', 'approve', id, ...as(c), '--dev', '--yes']);
      expect(r.stderr).not.toMatch(/embassy:/); // stderr shows the request being approved
      expect(r.status).toBe(0);
    }
    for (const c of ['custodian-2', 'custodian-4', 'custodian-5'])
      ok(embassy(['custodian', 'release', id, ...as(c), '--dev']));
    ok(embassy(['station', 'unlock', id, '-o', join(root, 'restored'), ...station]));
    expect(ok(exportAndVerify(dir))).toContain('findings: none');
    expect(ok(embassy(['jobs', 'key-age', '--data-dir', dir]))).toContain('rotation requests: none');
    // A domain without archives: nothing to rewrap, the job is complete.
    const to = ok(embassy(['keygen']))
      .trim()
      .split('\n')
      .at(-1)!;
    const rewrap = ['--domain', 'nowhere', '-i', join(root, 'key.txt'), '--to', to, '--epoch', '2'];
    ok(embassy(['jobs', 'rewrap', ...rewrap, '--data-dir', dir]));
    ok(embassy(['ceremony', 'runbook', 'health-check']));

    const stopped = new Promise<number | null>((res) => server.on('exit', res));
    server.kill('SIGTERM');
    expect(await stopped).toBe(0);
  }, 300_000);
});
