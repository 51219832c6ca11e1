/** Where CLI bytes come from and go to: a path or stdin/stdout, outputs written atomically. */
import { fstatSync } from 'node:fs';
import {
  atomicFileSink,
  fileSource,
  type Sink,
  type Source,
  streamSink,
  streamSource,
} from '../archive/index.ts';
import { UsageError } from './errors.ts';

export async function inputFrom(
  path: string | undefined,
): Promise<{ src: Source; size: number | undefined }> {
  if (path === undefined || path === '-') {
    const st = fstatSync(0);
    return { src: streamSource(process.stdin), size: st.isFile() ? st.size : undefined };
  }
  const src = await fileSource(path);
  return { src, size: src.size };
}

export async function outputTo(
  path: string | undefined,
  opts: { binary: boolean; mode: number },
): Promise<Sink> {
  if (path === undefined || path === '-') {
    if (opts.binary && process.stdout.isTTY) {
      throw new UsageError('refusing to write an archive to a terminal; use -o FILE or redirect stdout');
    }
    return streamSink(process.stdout);
  }
  return atomicFileSink(path, opts.mode);
}
