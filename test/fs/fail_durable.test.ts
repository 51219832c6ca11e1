// A durable write that fails leaves no temporary and the old file as it was; it never renames over
// a directory or anything but a regular file; an exclusive write refuses an existing name.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDurably, writeDurably, writeDurablySync } from '../../src/fs/durable.ts';
import { tempDirs } from './helpers.ts';

const tmp = tempDirs();

describe('durable write failures', () => {
  it('an aborted stream leaves the old file and no temporary', async () => {
    const dir = tmp();
    const path = join(dir, 'out');
    writeFileSync(path, 'old');
    const f = await openDurably(path);
    await f.write(Buffer.from('half of the plaintext'));
    await f.abort();
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['out']);
  });

  it('a write that fails midway leaves no temporary', async () => {
    const dir = tmp();
    const bad = { length: 3 } as unknown as Uint8Array; // not bytes: the write throws
    await expect(writeDurably(join(dir, 'x'), bad)).rejects.toThrow();
    expect(() => writeDurablySync(join(dir, 'y'), bad)).toThrow();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a missing directory names the target, not our temporary', async () => {
    const path = join(tmp(), 'no', 'such', 'file');
    await expect(openDurably(path)).rejects.toMatchObject({ code: 'ENOENT', path });
    await expect(writeDurably(path, 'x', { exclusive: true })).rejects.toMatchObject({
      code: 'ENOENT',
      path,
    });
    expect(() => writeDurablySync(path, 'x')).toThrow(expect.objectContaining({ code: 'ENOENT', path }));
  });

  it('never renames over a directory', async () => {
    const dir = tmp();
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    await expect(writeDurably(sub, 'x')).rejects.toMatchObject({ code: 'EISDIR' });
    expect(() => writeDurablySync(sub, 'x')).toThrow(expect.objectContaining({ code: 'EISDIR' }));
    await expect(openDurably(sub)).rejects.toMatchObject({ code: 'EISDIR' });
    expect(readdirSync(dir)).toEqual(['sub']);
  });

  it('exclusive: an existing name is refused (EEXIST) and kept', async () => {
    const dir = tmp();
    const path = join(dir, 'first');
    await writeDurably(path, 'one', { exclusive: true });
    await expect(writeDurably(path, 'two', { exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(() => writeDurablySync(path, 'two', { exclusive: true })).toThrow(
      expect.objectContaining({ code: 'EEXIST' }),
    );
    expect(readFileSync(path, 'utf8')).toBe('one');
    expect(readdirSync(dir)).toEqual(['first']);
  });
});
