// The one durable write: the complete file appears under its name with the mode asked for, only on
// commit; a device or FIFO is written into; stale temporaries of dead writers are removed, a live
// writer's are kept.
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isTempName,
  openDurably,
  removeStaleTemps,
  writeDurably,
  writeDurablySync,
} from '../../src/fs/durable.ts';
import { tempDirs } from './helpers.ts';

const tmp = tempDirs();

describe('durable write', () => {
  it('writes a new file and replaces an old one, leaving no temporary', async () => {
    const dir = tmp();
    const path = join(dir, 'state');
    await writeDurably(path, 'one');
    writeDurablySync(path, 'two');
    expect(readFileSync(path, 'utf8')).toBe('two');
    await writeDurably(path, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['state']);
  });

  it('honours the mode (default 0600)', async () => {
    const dir = tmp();
    const old = process.umask(0o022);
    try {
      await writeDurably(join(dir, 'a'), 'x');
      await writeDurably(join(dir, 'b'), 'x', { mode: 0o644 });
      writeDurablySync(join(dir, 'c'), 'x', { mode: 0o640 });
      const f = await openDurably(join(dir, 'd'), { mode: 0o604 });
      await f.write(Buffer.from('x'));
      await f.commit();
    } finally {
      process.umask(old);
    }
    const modes = ['a', 'b', 'c', 'd'].map((n) => statSync(join(dir, n)).mode & 0o777);
    expect(modes).toEqual([0o600, 0o644, 0o640, 0o604]);
  });

  it('streams: nothing under the name until commit, the temporary beside it', async () => {
    const dir = tmp();
    const path = join(dir, 'out.emb');
    writeFileSync(path, 'old');
    const f = await openDurably(path);
    await f.write(Buffer.from('new '));
    await f.write(Buffer.from('bytes'));
    await f.finish();
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readFileSync(f.tempPath!, 'utf8')).toBe('new bytes');
    expect(isTempName(f.tempPath!.slice(dir.length + 1))).toBe(true);
    await f.commit({ syncDir: false });
    expect(readFileSync(path, 'utf8')).toBe('new bytes');
    expect(readdirSync(dir)).toEqual(['out.emb']);
  });

  it('writes into /dev/null and a FIFO instead of renaming over them', async () => {
    await writeDurably('/dev/null', 'discarded');
    writeDurablySync('/dev/null', 'discarded');
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    const dir = tmp();
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const read = new Promise<string>((resolve, reject) => {
      let s = '';
      createReadStream(fifo, 'utf8')
        .on('data', (d) => {
          s += d;
        })
        .on('end', () => resolve(s))
        .on('error', reject);
    });
    await writeDurably(fifo, 'through the pipe');
    expect(await read).toBe('through the pipe');
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(dir)).toEqual(['pipe']);
  });

  it('removes only temporaries whose writer is gone', async () => {
    const dir = tmp();
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    const stale = `.a.emb.tmp-${dead}-0123456789ab`;
    const foreign = `.a.emb.tmp-${process.ppid}-0123456789ab`; // a live process's
    writeFileSync(join(dir, stale), 'plaintext');
    writeFileSync(join(dir, foreign), 'in progress');
    writeFileSync(join(dir, 'a.emb.tmp'), 'not ours');
    const live = await openDurably(join(dir, 'b.emb'));
    await removeStaleTemps([dir, dir, join(dir, 'missing')]);
    expect(readdirSync(dir).sort()).toEqual(
      [foreign, live.tempPath!.slice(dir.length + 1), 'a.emb.tmp'].sort(),
    );
    await live.abort();
  });
});
