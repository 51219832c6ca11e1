import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { HsmError } from '../../hsm/errors.ts';
import { pinEnvName, promptHidden, resolvePin } from '../../hsm/pins.ts';
import { MODULE } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'embassy-pins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
};
const notty = Object.assign(new PassThrough(), { isTTY: false });
writeFileSync(
  join(dir, 'dev-pins.json'),
  JSON.stringify({ 'custodian-1': { user: 'dev-user', so: 'dev-so' } }),
);

describe('PIN sources (docs/DECISIONS.md#d11)', () => {
  it('good_env_name: labels map to EMBASSY_PIN_<LABEL>', () => {
    expect(pinEnvName('custodian-1')).toBe('EMBASSY_PIN_CUSTODIAN_1');
    expect(pinEnvName('home')).toBe('EMBASSY_PIN_HOME');
    expect(pinEnvName('my token.2', true)).toBe('EMBASSY_SO_PIN_MY_TOKEN_2');
  });

  it('good_order: pin-file, then EMBASSY_PIN_<LABEL>, then EMBASSY_PIN, then the dev file', async () => {
    const all = {
      pinFile: file('single', 'from-file\n'),
      env: { EMBASSY_PIN_CUSTODIAN_1: 'from-label-env', EMBASSY_PIN: 'from-env' },
      dev: true,
      dataDir: dir,
      module: MODULE,
      input: notty,
    };
    const base = { label: 'custodian-1' };
    expect(await resolvePin({ ...base, ...all })).toEqual({ pin: 'from-file', source: 'pin-file' });
    expect(await resolvePin({ ...base, ...all, pinFile: undefined })).toEqual({
      pin: 'from-label-env',
      source: 'env-label',
    });
    expect(
      await resolvePin({ ...base, ...all, pinFile: undefined, env: { EMBASSY_PIN: 'from-env' } }),
    ).toEqual({
      pin: 'from-env',
      source: 'env',
    });
    expect(await resolvePin({ ...base, ...all, pinFile: undefined, env: {} })).toEqual({
      pin: 'dev-user',
      source: 'dev-file',
    });
    expect(await resolvePin({ ...base, ...all, pinFile: undefined, env: {}, so: true })).toEqual({
      pin: 'dev-so',
      source: 'dev-file',
    });
  });

  it('good_json_map: a JSON pin file maps labels, and falls through for a label it lacks', async () => {
    const map = file('map.json', JSON.stringify({ 'custodian-1': 'p1', home: { user: 'hu', so: 'hs' } }));
    const o = { pinFile: map, env: { EMBASSY_PIN: 'fallback' }, input: notty };
    expect((await resolvePin({ label: 'custodian-1', ...o })).pin).toBe('p1');
    expect((await resolvePin({ label: 'home', ...o })).pin).toBe('hu');
    expect((await resolvePin({ label: 'home', so: true, ...o })).pin).toBe('hs');
    expect(await resolvePin({ label: 'custodian-2', ...o })).toEqual({ pin: 'fallback', source: 'env' });
  });

  it('fail_dev_without_flag: the dev file is never read without dev: true', async () => {
    const e = await resolvePin({ label: 'custodian-1', env: {}, dataDir: dir, input: notty }).catch((x) => x);
    expect(e).toMatchObject({ code: 'pin_unavailable' });
    expect(e.message).toContain('EMBASSY_PIN_CUSTODIAN_1');
  });

  it('fail_dev_not_softhsm: the dev file is refused for a module that is not SoftHSM2', async () => {
    const vendor = file('libvendor-pkcs11.so', 'x');
    await expect(
      resolvePin({ label: 'custodian-1', env: {}, dev: true, dataDir: dir, module: vendor, input: notty }),
    ).rejects.toMatchObject({
      code: 'pin_unavailable',
      message: expect.stringContaining('only for SoftHSM2'),
    });
  });

  it('fail_bad_file: unreadable or malformed pin files are clear errors without the content', async () => {
    await expect(
      resolvePin({ label: 'x', pinFile: join(dir, 'nope'), env: {}, input: notty }),
    ).rejects.toMatchObject({
      code: 'pin_unavailable',
    });
    const e = await resolvePin({
      label: 'x',
      pinFile: file('bad.json', '{"x": secret-pin'),
      env: {},
      input: notty,
    }).catch((x) => x);
    expect(e).toBeInstanceOf(HsmError);
    expect(e.message).not.toContain('secret-pin');
    await expect(
      resolvePin({ label: 'x', pinFile: file('empty', '\n'), env: {}, input: notty }),
    ).rejects.toMatchObject({ code: 'pin_unavailable' });
  });

  it('good_prompt: on a TTY the PIN is read in raw mode and never echoed', async () => {
    const input = Object.assign(new PassThrough(), { isTTY: true, raw: [] as boolean[] }) as PassThrough & {
      isTTY: boolean;
      raw: boolean[];
      setRawMode: (r: boolean) => void;
    };
    input.setRawMode = (r: boolean) => {
      input.raw.push(r);
    };
    const output = new PassThrough();
    let shown = '';
    output.on('data', (d) => {
      shown += d.toString();
    });
    const p = resolvePin({ label: 'custodian-1', env: {}, input, output });
    input.write('s3cr');
    input.write('X\u007fet-pin\r');
    expect(await p).toEqual({ pin: 's3cret-pin', source: 'prompt' });
    expect(shown).toBe('PIN for token "custodian-1": \n');
    expect(input.raw).toEqual([true, false]);
  });

  it('fail_prompt_abort: Ctrl-C aborts the prompt', async () => {
    const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => {} });
    const p = promptHidden('PIN: ', input, new PassThrough());
    input.write('ab\u0003');
    await expect(p).rejects.toMatchObject({ code: 'pin_unavailable' });
  });
});
