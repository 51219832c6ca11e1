// The one error base and the one line the CLI prints for any failure.
import { describe, expect, it } from 'vitest';
import { describeError, EmbassyError } from '../src/errors.ts';

class ExampleError extends EmbassyError<'example_refused'> {}

describe('EmbassyError', () => {
  it('carries a code, a message, a cause and the subclass name', () => {
    const cause = new Error('underneath');
    const e = new ExampleError('example_refused', 'refused', { cause });
    expect(e).toBeInstanceOf(EmbassyError);
    expect(e).toBeInstanceOf(Error);
    expect([e.code, e.message, e.cause, e.name]).toEqual([
      'example_refused',
      'refused',
      cause,
      'ExampleError',
    ]);
  });
});

describe('describeError', () => {
  const sys = (code: string, extra: object) => Object.assign(new Error(`${code}: raw`), { code, ...extra });

  it('names the path and the failure of a system error', () => {
    expect(describeError(sys('ENOENT', { path: 'in.bin', syscall: 'open' }))).toBe(
      'in.bin: no such file or directory',
    );
    expect(describeError(sys('EPIPE', { syscall: 'write' }))).toBe('write: output closed early');
    expect(describeError(sys('EACCES', {}))).toBe('file: permission denied');
  });

  it('prints the first line of any other message and never a stack', () => {
    const e = new EmbassyError('usage', 'give -o FILE\nat main (cli.ts:1:1)');
    expect(describeError(e)).toBe('give -o FILE');
    expect(describeError(sys('EWHATEVER', {}))).toBe('EWHATEVER: raw');
    expect(describeError(new Error('boom'))).not.toContain('\n');
  });

  it('prints a thrown value that is not an Error as one line', () => {
    expect(describeError('two\nlines')).toBe('two');
    expect(describeError(undefined)).toBe('undefined');
  });
});
