/**
 * `npm run demo`: the whole story on embedded defaults, narrated. SoftHSM2 tokens for the home
 * HSM, the station and five custodians from three organisations; a 3-of-5 key ceremony for the
 * `land` and `business` domains with shares imported into the custodians' tokens; sample
 * registries sealed for their domains; then the disaster: an unlock of `land` by three custodian
 * tokens, restore, and a byte-for-byte check. Every check must hold for exit 0; the directory stays
 * for inspection.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type Custodian,
  createCeremonyKeys,
  type DevPins,
  initDevTokens,
  openCustodian,
  openHome,
  zeroizeCeremonyKeys,
} from '../../hsm/index.ts';
import {
  ArchiveError,
  atomicFileSink,
  fileSource,
  homeUnwrapper,
  homeWrapper,
  openArchive,
  sealArchive,
} from '../archive/index.ts';
import { fields, toHex } from '../crypto/bytes.ts';
import { formatPublicKey } from '../crypto/keys.ts';
import { ReleaseJournal } from '../custodian/journal.ts';
import { type SplitResult, splitQuorumKey } from '../station/key-ceremony.ts';
import { combineReleases, type Release } from '../station/unlock.ts';
import { businessRegisterJson, landRegisterCsv } from './registries.ts';

const MARKER = '.embassy-demo';

const CUSTODIANS = [
  { id: 'custodian-1', name: 'Kadri Tamm', organisation: 'Ministry of Justice' },
  { id: 'custodian-2', name: 'Jaan Saar', organisation: 'Ministry of Justice' },
  { id: 'custodian-3', name: 'Liis Kask', organisation: 'State Treasury' },
  { id: 'custodian-4', name: 'Peeter Mägi', organisation: 'State Treasury' },
  { id: 'custodian-5', name: 'Anu Rebane', organisation: 'Information System Authority' },
];
const THRESHOLD = 3;

export interface DemoOptions {
  dataDir: string;
  log: (line: string) => void;
}

export class DemoFailure extends Error {
  readonly code = 'demo_check_failed';
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export async function runDemo(opts: DemoOptions): Promise<void> {
  const dir = resolve(opts.dataDir);
  const t0 = performance.now();
  const timings: [string, number][] = [];
  let stepStart = performance.now();
  let stepNo = 0;
  const step = (title: string) => {
    if (stepNo > 0) timings[timings.length - 1]![1] = performance.now() - stepStart;
    stepNo++;
    stepStart = performance.now();
    timings.push([title, 0]);
    opts.log(`\n[${stepNo}] ${title}`);
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

  step('Provision SoftHSM2 tokens: home, log, station and five custodians');
  const tokens = await initDevTokens({ dataDir: dir, custodians: CUSTODIANS.length });
  const pins = JSON.parse(readFileSync(tokens.pinsPath, 'utf8')) as DevPins;
  say(`tokens in ${tokens.confPath} (development PINs in ${tokens.pinsPath}, mode 0600)`);
  say(`home key-encryption key ${tokens.homeKekId}, generated inside the home token`);

  step('Custodians set up their tokens: identity (P-256), transport (P-256) and X-Wing keys');
  const custodians = new Map<string, Custodian>();
  const publicKeys = new Map<string, Awaited<ReturnType<Custodian['setup']>>>();
  for (const c of CUSTODIANS) {
    const token = await openCustodian({ label: c.id, pin: pins[c.id]!.user });
    custodians.set(c.id, token);
    const keys = await token.setup();
    publicKeys.set(c.id, keys);
    say(`${c.name.padEnd(12)} ${c.organisation.padEnd(29)} identity ${toHex(keys.identity).slice(2, 18)}…`);
  }

  try {
    const epochs = new Map<string, SplitResult>();
    for (const domain of ['land', 'business']) {
      step(
        `Key ceremony for domain "${domain}": ${THRESHOLD}-of-${CUSTODIANS.length}, shares into the custodian tokens`,
      );
      const split = await splitQuorumKey({
        domain,
        epoch: 1,
        threshold: THRESHOLD,
        custodians: CUSTODIANS.map((c) => ({
          id: c.id,
          transport: publicKeys.get(c.id)!.transport,
          xwing: publicKeys.get(c.id)!.xwing,
        })),
      });
      epochs.set(domain, split);
      say(`quorum key ${toHex(split.keyId)} (X-Wing, ${formatPublicKey(split.publicKey).slice(0, 24)}…)`);
      say(
        `station checked all ${split.subsetsChecked} ${THRESHOLD}-subsets against the public key, then zeroised the seed`,
      );
      for (const s of split.shares) {
        const info = await custodians.get(s.custodian)!.importShare(s.envelope, {
          domain,
          epoch: 1,
          ceremony: split.ceremonyDigest,
          custodian: s.custodian,
        });
        say(
          `${s.custodian}: share x=${String(s.x).padStart(3)} imported as "${info.label}", commitment ${toHex(s.commitment.commitment).slice(0, 16)}…`,
        );
      }
      check(split.shares.length === CUSTODIANS.length, `${domain}: every custodian token holds a share`);
    }

    step('Backup job seals the registries for their domains (quorum stanza + home stanza)');
    const registries = join(dir, 'registries');
    const store = join(dir, 'embassy-store');
    mkdirSync(registries);
    const snapshots = [
      { domain: 'land', file: 'land-register.csv', type: 'text/csv', data: landRegisterCsv(30000) },
      {
        domain: 'business',
        file: 'business-register.json',
        type: 'application/json',
        data: businessRegisterJson(8000),
      },
    ];
    const home = await openHome({ label: 'home', pin: pins['home']!.user });
    const sealed = new Map<string, string>();
    try {
      for (const s of snapshots) {
        writeFileSync(join(registries, s.file), s.data);
        mkdirSync(join(store, s.domain), { recursive: true });
        const snapshotId = `${s.domain}-20261127-0001`;
        const out = join(store, s.domain, `${snapshotId}.emb`);
        const res = await sealArchive(
          await fileSource(join(registries, s.file)),
          await atomicFileSink(out, 0o644),
          {
            manifest: {
              domain: s.domain,
              snapshotId,
              sealEpoch: 1,
              createdAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
              contentType: s.type,
              name: s.file,
            },
            recipients: [{ publicKey: epochs.get(s.domain)!.publicKey, epoch: 1 }],
            home: [homeWrapper(home)],
          },
        );
        sealed.set(s.domain, out);
        say(
          `${s.file}: ${(res.plaintextBytes / 1e6).toFixed(1)} MB → ${out} (${(res.archiveBytes / 1e6).toFixed(1)} MB)`,
        );
      }
    } finally {
      home.close();
    }

    step('Disaster: every system at home is down. The station abroad opens an unlock request for "land"');
    const keys = createCeremonyKeys();
    const land = epochs.get('land')!;
    const request = {
      domain: 'land',
      epoch: 1,
      snapshots: ['land-20261127-0001'],
      justification: {
        legalBasis: 'EMERGENCY-RESTORE',
        caseRef: 'RIA-2026-0042',
        text: 'restore land register services',
      },
      recipientP256: toHex(keys.p256.publicKey),
      recipientXWing: createHash('sha256').update(keys.xwing.publicKey).digest('hex'),
    };
    const ceremony = createHash('sha256')
      .update(fields('data-embassy/v1/unlock-request', JSON.stringify(request)))
      .digest();
    say(
      `request ${toHex(ceremony).slice(0, 16)}…: ${request.justification.legalBasis}, case ${request.justification.caseRef}`,
    );
    say(
      `per-ceremony recipient keys: P-256 ${request.recipientP256.slice(2, 18)}…, X-Wing ${request.recipientXWing.slice(0, 16)}…`,
    );

    step(
      `Custodians from distinct organisations approve; each token releases its share to the station's keys`,
    );
    const approvers = ['custodian-1', 'custodian-3', 'custodian-5'];
    const releases: Release[] = [];
    for (const id of approvers) {
      const journal = new ReleaseJournal(join(dir, `${id}-release-journal.jsonl`));
      const r = {
        domain: 'land',
        epoch: 1,
        ceremony,
        recipientP256: keys.p256.publicKey,
        recipientXWing: keys.xwing.publicKey,
      };
      journal.record(r);
      const envelope = await custodians.get(id)!.releaseShare({ ...r, custodian: id });
      releases.push({
        custodian: id,
        envelope,
        commitment: land.shares.find((s) => s.custodian === id)!.commitment,
      });
      const c = CUSTODIANS.find((x) => x.id === id)!;
      say(
        `${c.name} (${c.organisation}) released ${envelope.length} bytes, wrapped twice (P-256 in the token, X-Wing outside)`,
      );
    }
    check(
      new Set(approvers.map((a) => CUSTODIANS.find((c) => c.id === a)!.organisation)).size >= 2,
      'approvals come from at least two organisations',
    );
    const journal = new ReleaseJournal(join(dir, 'custodian-1-release-journal.jsonl'));
    let refused = false;
    try {
      journal.record({
        domain: 'land',
        epoch: 1,
        ceremony,
        recipientP256: keys.p256.publicKey,
        recipientXWing: keys.xwing.publicKey,
      });
    } catch {
      refused = true;
    }
    check(refused, 'a second release for the same ceremony is refused by the custodian journal');

    step('Station combines the shares, checks each commitment and the quorum public key, and restores');
    const below = await combineReleases({
      keys,
      domain: 'land',
      epoch: 1,
      ceremony,
      threshold: THRESHOLD,
      publicKey: land.publicKey,
      releases: releases.slice(0, 2),
    }).then(
      () => false,
      () => true,
    );
    check(below, 'two shares are refused (below threshold)');
    const quorum = await combineReleases({
      keys,
      domain: 'land',
      epoch: 1,
      ceremony,
      threshold: THRESHOLD,
      publicKey: land.publicKey,
      releases,
    });
    check(
      toHex(quorum.keyId) === toHex(land.keyId),
      'the combined seed gives the roster quorum key of land/epoch 1',
    );
    const restored = join(dir, 'restored');
    mkdirSync(restored);
    const tRestore = performance.now();
    const out = join(restored, 'land-register.csv');
    await openArchive(await fileSource(sealed.get('land')!), await atomicFileSink(out), {
      identities: [quorum],
    });
    say(`restored ${out} in ${(performance.now() - tRestore).toFixed(0)} ms`);
    check(
      sha256(readFileSync(out)) === sha256(snapshots[0]!.data),
      'restored land register equals the original byte for byte',
    );
    const other = await openArchive(
      await fileSource(sealed.get('business')!),
      await atomicFileSink(join(restored, 'x')),
      { identities: [quorum] },
    ).then(
      () => false,
      (e: unknown) => e instanceof ArchiveError && e.code === 'no_matching_stanza',
    );
    check(other, 'the land quorum key does not open the business archive (domains are separate)');
    quorum.seed.fill(0);
    zeroizeCeremonyKeys(keys);

    step('Routine restore at home: the home HSM opens the business archive without a ceremony');
    const home2 = await openHome({ label: 'home', pin: pins['home']!.user });
    try {
      const out2 = join(restored, 'business-register.json');
      await openArchive(await fileSource(sealed.get('business')!), await atomicFileSink(out2), {
        home: homeUnwrapper(home2),
      });
      check(
        sha256(readFileSync(out2)) === sha256(snapshots[1]!.data),
        'restored business register equals the original byte for byte',
      );
    } finally {
      home2.close();
    }
  } finally {
    for (const c of custodians.values()) c.close();
  }

  timings[timings.length - 1]![1] = performance.now() - stepStart;
  opts.log('\nSummary');
  for (const [title, ms] of timings) opts.log(`  ${(ms / 1000).toFixed(2).padStart(6)} s  ${title}`);
  opts.log(`  ${((performance.now() - t0) / 1000).toFixed(2).padStart(6)} s  total`);
  opts.log(
    `  approved by: Kadri Tamm (Ministry of Justice), Liis Kask (State Treasury), Anu Rebane (Information System Authority)`,
  );
  opts.log(`\nEvery check held. Inspect ${dir} (SOFTHSM2_CONF=${join(dir, 'softhsm2.conf')}).`);
}
