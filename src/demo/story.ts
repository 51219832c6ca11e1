/**
 * `npm run demo`: the whole story on embedded defaults, narrated. SoftHSM2 tokens (home, log,
 * station, five custodians from three organisations); a 3-of-5 key ceremony for `land` and
 * `business` with shares imported into the custodians' tokens; a genesis roster signed in those
 * tokens; the coordinator on a free port over a SQLite file; a backup job sealing sample registries
 * and registering them; then the disaster: a station abroad asks to unlock `land`, three custodians
 * approve from their tokens, their clients check the quorum themselves and release, the station
 * restores and compares byte for byte. Every check must hold for exit 0; the directory stays.
 * The deployment itself comes from src/devkit/ (buildDevDeployment); this module is the story.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openHome } from '../../hsm/index.ts';
import {
  ArchiveError,
  atomicFileSink,
  fileSource,
  homeUnwrapper,
  homeWrapper,
  openArchive,
} from '../archive/index.ts';
import { auditorChecks } from '../audit/auditor.ts';
import { readBundle, writeBundle } from '../audit/bundle.ts';
import { verifyBundle } from '../audit/verify.ts';
import { registerSnapshot, sealSnapshot } from '../backup/index.ts';
import { startServer } from '../coordinator/server.ts';
import { toHex } from '../crypto/bytes.ts';
import { decide, pendingCeremonies, release } from '../custodian/client.ts';
import { describeForCeremonies } from '../devkit/ceremonies.ts';
import { buildDevDeployment, DEV_CUSTODIANS } from '../devkit/deployment.ts';
import { EmbassyError } from '../errors.ts';
import { writeDurablySync } from '../fs/durable.ts';
import type { CeremonyView } from '../protocol/views.ts';
import { requestUnlock, unlockAndRestore } from '../station/client.ts';
import { businessRegisterJson, landRegisterCsv } from './registries.ts';

const MARKER = '.embassy-demo';

export interface DemoOptions {
  dataDir: string;
  log: (line: string) => void;
}

export class DemoFailure extends EmbassyError<'demo_check_failed'> {
  constructor(message: string) {
    super('demo_check_failed', message);
  }
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export async function runDemo(opts: DemoOptions): Promise<void> {
  const dir = resolve(opts.dataDir);
  const t0 = performance.now();
  const timings: [string, number][] = [];
  let stepStart = performance.now();
  const step = (title: string) => {
    if (timings.length > 0) timings[timings.length - 1]![1] = performance.now() - stepStart;
    stepStart = performance.now();
    timings.push([title, 0]);
    opts.log(`\n[${timings.length}] ${title}`);
  };
  const say = (line: string) => opts.log(`    ${line}`);
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new DemoFailure(`check failed: ${what}`);
    say(`✔ ${what}`);
  };

  if (existsSync(dir)) {
    if (!existsSync(join(dir, MARKER))) {
      throw new DemoFailure(`${dir} exists and was not made by the demo; choose another --data-dir`);
    }
    rmSync(dir, { recursive: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MARKER), 'made by npm run demo; safe to delete\n');

  step(
    'Key ceremonies: SoftHSM2 tokens, custodian keys in their tokens, 3-of-5 quorum keys, signed genesis roster',
  );
  const deployment = await buildDevDeployment({ dataDir: dir, domains: ['land', 'business'], log: say });
  try {
    for (const c of DEV_CUSTODIANS) say(`${c.name.padEnd(12)} ${c.organisation}`);
    say(
      `genesis roster signed in all five custodian tokens; pin it out of band: --roster-pin ${deployment.rosterPin}`,
    );
    // So that `embassy ceremony run NAME --data-dir DIR` can run the next ceremonies here (dev PINs).
    describeForCeremonies(deployment, {
      administrator: 'Demo ceremony administrator',
      witness: 'Demo internal witness',
    });
    check(
      deployment.roster.domains.every((d) => d.epochs[0]!.shares.length === 5),
      'every custodian token holds a share of each domain',
    );

    step('Coordinator: Hono on a free port, SQLite store, audit log');
    const server = await startServer(deployment.coordinator);
    say(`listening on ${server.url} (OpenAPI at ${server.url}/openapi.json)`);
    const fetch = undefined; // real HTTP
    const client = (id: string) => deployment.client(id, fetch, server.url);
    try {
      step('Backup job seals the registries for their domains and registers them');
      const registries = join(dir, 'registries');
      const store = join(dir, 'embassy-store');
      mkdirSync(registries);
      mkdirSync(store);
      const snapshots = [
        { domain: 'land', file: 'land-register.csv', type: 'text/csv', data: landRegisterCsv(30000) },
        {
          domain: 'business',
          file: 'business-register.json',
          type: 'application/json',
          data: businessRegisterJson(8000),
        },
      ];
      const home = await openHome({ label: 'home', pin: deployment.pins['home']!.user });
      const job = client('backup-job');
      const ids = new Map<string, string>();
      try {
        for (const [i, s] of snapshots.entries()) {
          writeFileSync(join(registries, s.file), s.data);
          const snapshotId = `${s.domain}-20261127-0001`;
          const out = join(store, `${snapshotId}.emb`);
          const split = deployment.splits.get(s.domain)!;
          const res = await sealSnapshot(
            await fileSource(join(registries, s.file)),
            await atomicFileSink(out, 0o644),
            {
              roster: deployment.roster,
              domain: s.domain,
              client: job,
              snapshotId,
              contentType: s.type,
              name: s.file,
              home: [homeWrapper(home)],
              sequence: i + 1,
            },
          );
          await registerSnapshot(job, out);
          ids.set(s.domain, snapshotId);
          say(
            `${s.file}: ${(res.plaintextBytes / 1e6).toFixed(1)} MB sealed to ${toHex(split.keyId).slice(0, 16)}… (+ home stanza, signed by the job), registered as ${snapshotId}`,
          );
        }
      } finally {
        home.close();
      }

      await deployment.coordinator.checkpoint();
      const trusted = await client('auditor-1').get<{ size: number; note: string }>('/v1/audit/checkpoint');
      writeDurablySync(join(dir, 'auditor-trusted-checkpoint.txt'), trusted.note, { mode: 0o644 });
      say(`an external auditor keeps the signed checkpoint of size ${trusted.size} as a trust anchor`);

      step('Disaster: every system at home is down. The station abroad asks to unlock "land"');
      const station = { id: 'station-lux', roster: deployment.roster, client: client('station-lux') };
      const { ceremony, keys } = await requestUnlock(station, {
        domain: 'land',
        epoch: 1,
        snapshots: [ids.get('land')!],
        justification: {
          legalBasis: 'EMERGENCY-RESTORE',
          caseReference: 'RIA-2026-0042',
          text: 'Restore the land register service from the embassy copy.',
        },
        ttlSeconds: 3600,
      });
      say(
        `ceremony ${ceremony.id}, request ${ceremony.requestHash.slice(0, 16)}…, deadline ${ceremony.deadline}`,
      );

      step('Custodians review the request from their clients and approve in their tokens');
      const custodian = (id: string) => ({
        id,
        roster: deployment.roster,
        client: client(id),
        token: deployment.custodians.get(id)!.token,
        journal: deployment.custodians.get(id)!.journal,
      });
      const seen = await pendingCeremonies(custodian('custodian-2'));
      const mine = seen.find((c) => c.id === ceremony.id)!;
      say(
        `custodian-2 sees: station ${mine.station}, domain ${mine.request.domain}/${mine.request.epoch}, snapshots ${mine.request.snapshots.join(', ')}`,
      );
      say(
        `  justification ${mine.request.justification.legalBasis} / ${mine.request.justification.caseReference}, recipient keys ${mine.recipientKeys.slice(0, 16)}…`,
      );
      const approvers = ['custodian-1', 'custodian-3', 'custodian-5'];
      let lastApproval = 0;
      for (const id of approvers) {
        const v = await decide(custodian(id), ceremony.id, 'approve');
        lastApproval = performance.now();
        const c = DEV_CUSTODIANS.find((x) => x.id === id)!;
        say(
          `${c.name} (${c.organisation}) approved: ${v.verdict.approvers.length} approvals, ${v.verdict.organisations.length} organisations → ${v.verdict.state}`,
        );
      }

      step(
        'Each approving client checks the quorum itself, then its token releases the share to the station',
      );
      for (const id of approvers) {
        await release(custodian(id), ceremony.id);
        say(`${id}: released (wrapped in the token to the station's P-256 key, then X-Wing outside)`);
      }
      const again = await release(custodian('custodian-1'), ceremony.id).then(
        () => false,
        () => true,
      );
      check(again, 'a second release by the same custodian is refused by its journal');

      step('Station collects the releases, checks them against the pinned roster, combines and restores');
      const restoredDir = join(dir, 'restored');
      const tRestore = performance.now();
      const res = await unlockAndRestore(
        station,
        ceremony.id,
        keys,
        (s) => join(store, `${s}.emb`),
        restoredDir,
      );
      const firstByte = tRestore - lastApproval + res.firstByteMs;
      say(
        `restored ${res.files.map((f) => f.path).join(', ')}; last approval → first restored byte ${firstByte.toFixed(0)} ms`,
      );
      check(
        sha256(readFileSync(res.files[0]!.path)) === sha256(snapshots[0]!.data),
        'restored land register equals the original byte for byte',
      );
      const after = await client('auditor-1').get<CeremonyView>(`/v1/ceremonies/${ceremony.id}`);
      check(
        after.state === 'done' && after.releases.length === 0,
        'the ceremony is closed and the coordinator deleted the wrapped shares',
      );
      const quorumLand = deployment.splits.get('land')!;
      const other = await openArchive(
        await fileSource(join(store, `${ids.get('business')}.emb`)),
        await atomicFileSink(join(restoredDir, 'x')),
        {
          identities: [],
        },
      ).then(
        () => false,
        (e: unknown) => e instanceof ArchiveError && e.code === 'no_matching_stanza',
      );
      check(
        other && toHex(quorumLand.keyId) !== toHex(deployment.splits.get('business')!.keyId),
        'the business archive stays sealed: domains have separate quorum keys',
      );

      step('Routine restore at home: the home HSM opens the business archive without a ceremony');
      const home2 = await openHome({ label: 'home', pin: deployment.pins['home']!.user });
      try {
        const out = join(restoredDir, 'business-register.json');
        await openArchive(
          await fileSource(join(store, `${ids.get('business')}.emb`)),
          await atomicFileSink(out),
          { home: homeUnwrapper(home2) },
        );
        check(
          sha256(readFileSync(out)) === sha256(snapshots[1]!.data),
          'restored business register equals the original byte for byte',
        );
      } finally {
        home2.close();
      }

      step('Audit: every state change is in the Merkle log');
      const { entries } = await client('auditor-1').get<{ entries: { entry: string }[] }>(
        '/v1/audit/entries?from=0&to=1000',
      );
      const kinds = entries.map((e) => JSON.parse(e.entry).kind as string);
      say(`${entries.length} entries: ${kinds.join(', ')}`);
      check(
        kinds.includes('rotation-required'),
        'the completed unlock opened a rotation of land (the epoch key was exposed)',
      );
      check(
        kinds.filter((k) => k === 'release').length === 3 &&
          kinds.filter((k) => k === 'approval').length === 3,
        'three approvals and three releases are logged',
      );

      step('The auditor exports the log and verifies it offline, with its own anchors');
      const bundlePath = join(dir, 'audit-bundle.json');
      const exported = await writeBundle(deployment.store, bundlePath);
      const report = verifyBundle(await readBundle(bundlePath), {
        logKey: readFileSync(join(dir, 'log-key.vkey'), 'utf8').trim(),
        rosterPin: deployment.rosterPin,
        trustedCheckpoint: readFileSync(join(dir, 'auditor-trusted-checkpoint.txt'), 'utf8'),
        ...auditorChecks(),
      });
      say(
        `${bundlePath}: ${exported.treeSize} entries, ${exported.checkpoints} checkpoints, ${report.statementsVerified} signed statements verified`,
      );
      for (const c of report.ceremonies)
        say(`ceremony ${c.id}: policy ${c.policy}, approved by ${c.approvedBy.join(', ')}`);
      check(
        report.anchored,
        'the log is consistent with the checkpoint the auditor kept (no fork, no rollback)',
      );
      check(
        report.findings.length === 0,
        'no findings: tree, checkpoints, signatures, roster chain and ceremony policy all verify',
      );

      timings[timings.length - 1]![1] = performance.now() - stepStart;
      opts.log('\nSummary');
      for (const [title, ms] of timings) opts.log(`  ${(ms / 1000).toFixed(2).padStart(6)} s  ${title}`);
      opts.log(`  ${((performance.now() - t0) / 1000).toFixed(2).padStart(6)} s  total`);
      opts.log(
        `  approved and released by: ${approvers.map((a) => DEV_CUSTODIANS.find((c) => c.id === a)!.name).join(', ')}`,
      );
      opts.log(`  last approval → first restored byte: ${firstByte.toFixed(0)} ms`);
      opts.log(
        `\nEvery check held. Inspect ${dir} (SOFTHSM2_CONF=${join(dir, 'softhsm2.conf')}, store ${join(dir, 'embassy.sqlite')}).`,
      );
    } finally {
      await server.close();
    }
  } finally {
    await deployment.close();
  }
}
