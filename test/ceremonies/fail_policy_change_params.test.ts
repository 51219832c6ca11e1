/**
 * Bad policy parameters are refused before the first step: no transcript is written, nothing is
 * signed, the roster stays as it was (policy-change and key-generation alike).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTranscripts } from '../../ceremonies/engine.ts';
import { runCeremony } from '../../ceremonies/index.ts';
import { rehearsal } from './helpers.ts';

let r: Awaited<ReturnType<typeof rehearsal>>;
beforeAll(async () => {
  r = await rehearsal();
}, 120_000);
afterAll(async () => r?.cleanup());

const refused = async (name: string, params: Record<string, string>, message: RegExp) => {
  const version = r.env.roster().version;
  await expect(runCeremony(name, { env: r.env, params })).rejects.toMatchObject({
    code: 'ceremony_bad_params',
    message: expect.stringMatching(message),
  });
  expect(listTranscripts(r.env.dataDir)).toEqual([]);
  expect(r.env.roster().version).toBe(version);
};

describe('policy-change parameters', () => {
  it.each([
    [{ domain: 'nowhere' }, /"nowhere" is not a domain/],
    [{ domain: 'land', threshold: '2' }, /re-split .* rotation ceremony/],
    [{ domain: 'land', 'min-organisations': '4' }, /above the threshold 3/],
    [{ domain: 'land', 'cool-off-seconds': '-1' }, /--cool-off-seconds must be an integer/],
    [{ domain: 'land', 'max-deadline-seconds': '0' }, /--max-deadline-seconds must be an integer/],
    [{ domain: 'land', veto: 'maybe' }, /--veto must be any or none/],
    [{ domain: 'land', 'legal-bases': 'NO-SUCH-LAW' }, /"NO-SUCH-LAW" is not in the roster/],
    [{ domain: 'land', stations: 'station-nowhere' }, /"station-nowhere" is not a station/],
    [{ domain: 'land', jobs: 'custodian-1' }, /"custodian-1" is not a job/],
  ])('%o is refused before the first step', (params, message) => refused('policy-change', params, message));
});

describe('key-generation policy parameters', () => {
  it.each([
    [{ 'min-organisations': '3' }, /above the threshold 2/],
    [{ 'min-organisations': '2', custodians: 'custodian-1,custodian-2' }, /span only 1 organisations/],
    [{ 'legal-bases': 'NO-SUCH-LAW' }, /"NO-SUCH-LAW" is not in the roster/],
    [{ jobs: 'no-job' }, /"no-job" is not a job/],
    [{ custodians: 'custodian-1,nobody' }, /"nobody" is not a custodian/],
  ])('%o is refused before the first step', (params, message) =>
    refused('key-generation', { domain: 'census', threshold: '2', ...params }, message),
  );
});
