/**
 * `npm run bench:hsm`: the hsm/ layer against a bare pkcs11js loop doing the same PKCS#11 calls,
 * in the same process, on the same SoftHSM2 tokens (a fresh temporary data directory).
 * Each pair alternates in short slices (shared machines are noisy); the table shows rates and layer/bare ratios.
 * Not a timed test: numbers depend on the machine. Target (issue 3): ratio ≥ 0.8.
 *
 *   npm run bench:hsm [-- --seconds 1.0 --keep]
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { split } from 'shamir-secret-sharing';
import { openCustodian } from '../hsm/custodian.ts';
import { initDevTokens } from '../hsm/dev/init.ts';
import { kekInfo } from '../hsm/format.ts';
import { dekTemplate, openHome } from '../hsm/home.ts';
import { openLogToken } from '../hsm/logkey.ts';
import { CKM_AES_KEY_WRAP_PAD, CKM_EDDSA, OID_P256, unwrapOctetString } from '../hsm/pkcs11/consts.ts';
import { sessionAes } from '../hsm/pkcs11/keys.ts';
import { createCeremonyKeys, wrapShareForImport } from '../hsm/station.ts';
import { xwingKeygen } from '../src/crypto/xwing.ts';

const P = pkcs11js;
const MODULE = process.env['EMBASSY_PKCS11_MODULE'] ?? '/usr/lib/softhsm/libsofthsm2.so';
const argv = process.argv.slice(2);
const SECONDS = Number(argv[argv.indexOf('--seconds') + 1] || 0) || 1.0;
const KEEP = argv.includes('--keep');

/** Runs `fn` for `seconds` with `concurrency` callers; returns [operations, elapsed seconds]. */
async function slice(
  fn: (worker: number) => Promise<unknown>,
  seconds: number,
  concurrency = 1,
): Promise<[number, number]> {
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < deadline) {
        await fn(w);
        n++;
      }
    }),
  );
  return [n, (performance.now() - t0) / 1000];
}

async function rate(fn: (worker: number) => Promise<unknown>, concurrency = 1): Promise<number> {
  const [n, t] = await slice(fn, SECONDS, concurrency);
  return n / t;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Row {
  op: string;
  bare?: number;
  layer: number;
}

/**
 * Bare and layer alternate in SLICES short slices each (the machine is shared and noisy; fine
 * interleaving lets both sides see the same load). Rate = total operations / total time per side.
 */
const SLICES = 10;
async function pair(
  op: string,
  bare: ((worker: number) => Promise<unknown>) | undefined,
  layer: (worker: number) => Promise<unknown>,
  c = 1,
) {
  const tot = { b: [0, 0], l: [0, 0] };
  const per = (SECONDS * 3) / SLICES;
  await slice(layer, 0.1, c); // warm-up
  for (let i = 0; i < SLICES; i++) {
    if (bare) {
      const [n, t] = await slice(bare, per, c);
      tot.b[0]! += n;
      tot.b[1]! += t;
    }
    const [n, t] = await slice(layer, per, c);
    tot.l[0]! += n;
    tot.l[1]! += t;
  }
  const row: Row = { op, layer: tot.l[0]! / tot.l[1]!, ...(bare ? { bare: tot.b[0]! / tot.b[1]! } : {}) };
  process.stderr.write(`  ${op}: done\n`);
  return row;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'embassy-bench-hsm-'));
  try {
    process.stderr.write(`provisioning SoftHSM2 tokens in ${dir}\n`);
    const init = await initDevTokens({ dataDir: dir, custodians: 1, module: MODULE });
    const pinMap = JSON.parse(readFileSync(init.pinsPath, 'utf8')) as Record<string, { user: string }>;
    const custodian = await openCustodian({
      label: 'custodian-1',
      pin: pinMap['custodian-1']!.user,
      module: MODULE,
    });
    const keys = await custodian.setup();
    const ceremony = new Uint8Array(32).fill(1);
    const share = (await split(xwingKeygen().seed, 2, 2))[0]!;
    await custodian.importShare(
      await wrapShareForImport({
        domain: 'bench',
        epoch: 1,
        ceremony,
        custodian: 'custodian-1',
        share,
        transport: keys.transport,
        xwing: keys.xwing,
      }),
      { domain: 'bench', epoch: 1, ceremony },
    );
    const home = await openHome({ label: 'home', pin: pinMap['home']!.user, module: MODULE });
    const log = await openLogToken({ label: 'log', pin: pinMap['log']!.user, module: MODULE });
    await log.generateEd25519();
    const station = createCeremonyKeys();

    // The bare side: the same library, already initialised and logged in by the layer (login state is
    // per application), its own sessions, objects found once, the same *Async calls the layer makes.
    const p11 = new P.PKCS11();
    p11.load(MODULE);
    try {
      p11.C_Initialize({ flags: P.CKF_OS_LOCKING_OK });
    } catch {
      // shared with the layer
    }
    const slotOf = (label: string) =>
      p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === label)!;
    const sessions = (label: string, n: number) =>
      Array.from({ length: n }, () =>
        p11.C_OpenSession(slotOf(label), P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION),
      );
    const find = (s: Buffer, cls: number, label: string) => {
      p11.C_FindObjectsInit(s, [
        { type: P.CKA_CLASS, value: cls },
        { type: P.CKA_LABEL, value: label },
      ]);
      const [h] = p11.C_FindObjects(s, 1);
      p11.C_FindObjectsFinal(s);
      return h!;
    };
    const cs = sessions('custodian-1', 4);
    const idKey = find(cs[0]!, P.CKO_PRIVATE_KEY, 'embassy-identity');
    const shareKey = find(cs[0]!, P.CKO_SECRET_KEY, 'share-bench-1');
    const digest = createHash('sha256').update('bench').digest();

    const bareSign = (s: Buffer) => async () => {
      p11.C_SignInit(s, { mechanism: P.CKM_ECDSA }, idKey);
      return Buffer.from(await p11.C_SignAsync(s, digest, Buffer.alloc(512)));
    };
    const syncSign = () => {
      p11.C_SignInit(cs[0]!, { mechanism: P.CKM_ECDSA }, idKey);
      return Promise.resolve(Buffer.from(p11.C_Sign(cs[0]!, digest, Buffer.alloc(512))));
    };
    // one session per concurrent caller, as a pool would hand out
    const bareSign4 = (w: number) => bareSign(cs[w]!)();

    // the same templates the layer uses, so that both sides ask the token for the same work
    const aes = (usage: 'derive' | 'wrap') => sessionAes(usage);
    const ctx = { domain: 'bench', epoch: 1, ceremony, custodian: 'custodian-1' };
    const bareRelease = async () => {
      const s = cs[0]!;
      const eph = await p11.C_GenerateKeyPairAsync(
        s,
        { mechanism: P.CKM_EC_KEY_PAIR_GEN },
        [
          { type: P.CKA_KEY_TYPE, value: P.CKK_EC },
          { type: P.CKA_EC_PARAMS, value: OID_P256 },
          { type: P.CKA_TOKEN, value: false },
        ],
        [
          { type: P.CKA_KEY_TYPE, value: P.CKK_EC },
          { type: P.CKA_TOKEN, value: false },
          { type: P.CKA_SENSITIVE, value: true },
          { type: P.CKA_EXTRACTABLE, value: false },
          { type: P.CKA_DERIVE, value: true },
        ],
      );
      const ephPub = unwrapOctetString(
        Buffer.from(p11.C_GetAttributeValue(s, eph.publicKey, [{ type: P.CKA_EC_POINT }])[0]!.value),
      );
      const info = kekInfo('release', ctx, ephPub, station.p256.publicKey);
      const k0 = await p11.C_DeriveKeyAsync(
        s,
        {
          mechanism: P.CKM_ECDH1_DERIVE,
          parameter: {
            type: P.CK_PARAMS_EC_DH,
            kdf: P.CKD_NULL,
            publicData: Buffer.from(station.p256.publicKey),
          } as pkcs11js.ECDH1,
        },
        eph.privateKey,
        aes('derive'),
      );
      const k1 = await p11.C_DeriveKeyAsync(
        s,
        {
          mechanism: P.CKM_AES_CBC_ENCRYPT_DATA,
          parameter: {
            type: P.CK_PARAMS_AES_CBC,
            iv: Buffer.alloc(16),
            data: Buffer.from(info),
          } as pkcs11js.AesCBC,
        },
        k0,
        aes('wrap'),
      );
      const w = Buffer.from(
        await p11.C_WrapKeyAsync(s, { mechanism: CKM_AES_KEY_WRAP_PAD }, k1, shareKey, Buffer.alloc(1024)),
      );
      for (const o of [k1, k0, eph.privateKey, eph.publicKey]) p11.C_DestroyObject(s, o);
      return w;
    };

    const hs = sessions('home', 1)[0]!;
    const kek = (() => {
      p11.C_FindObjectsInit(hs, [
        { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
        { type: P.CKA_ID, value: Buffer.from(home.kekId, 'hex') },
      ]);
      const [h] = p11.C_FindObjects(hs, 1);
      p11.C_FindObjectsFinal(hs);
      return h!;
    })();
    const dek = new Uint8Array(randomBytes(32));
    const wrapped = await home.wrapDek(dek);
    const bareRewrap = async () => {
      const o = await p11.C_UnwrapKeyAsync(
        hs,
        { mechanism: CKM_AES_KEY_WRAP_PAD },
        kek,
        Buffer.from(wrapped),
        dekTemplate(true),
      );
      const w = Buffer.from(
        await p11.C_WrapKeyAsync(hs, { mechanism: CKM_AES_KEY_WRAP_PAD }, kek, o, Buffer.alloc(1024)),
      );
      p11.C_DestroyObject(hs, o);
      return w;
    };
    const bareWrapDek = async () => {
      const o = p11.C_CreateObject(hs, [
        ...dekTemplate(true),
        { type: P.CKA_VALUE, value: Buffer.from(dek) },
      ]);
      const w = Buffer.from(
        await p11.C_WrapKeyAsync(hs, { mechanism: CKM_AES_KEY_WRAP_PAD }, kek, o, Buffer.alloc(1024)),
      );
      p11.C_DestroyObject(hs, o);
      return w;
    };

    const ls = sessions('log', 1)[0]!;
    const edKey = find(ls, P.CKO_PRIVATE_KEY, 'checkpoint');
    const note = Buffer.from('example.org/log\n12345\nq6Kx1Y1lHHpS5BMYYMcNmhhIF52zzD5GRZaBv7frs2c=\n');
    const bareEd = async () => {
      p11.C_SignInit(ls, { mechanism: CKM_EDDSA }, edKey);
      return Buffer.from(await p11.C_SignAsync(ls, note, Buffer.alloc(512)));
    };

    const rows: Row[] = [];
    process.stderr.write(`measuring (${3 * SECONDS}s per side, ${SLICES} interleaved slices)\n`);
    rows.push(
      await pair(
        'ECDSA P-256 sign (1 caller)',
        () => bareSign(cs[0]!)(),
        () => custodian.sign(digest),
      ),
    );
    rows.push(await pair('ECDSA P-256 sign (4 callers)', bareSign4, () => custodian.sign(digest), 4));
    rows.push(
      await pair('share release, in-token part', bareRelease, () =>
        custodian.wrapForRecipient(ctx, station.p256.publicKey),
      ),
    );
    rows.push(
      await pair('share release + X-Wing layer', undefined, () =>
        custodian.releaseShare({
          ...ctx,
          recipientP256: station.p256.publicKey,
          recipientXWing: station.xwing.publicKey,
        }),
      ),
    );
    rows.push(await pair('home wrap DEK', bareWrapDek, () => home.wrapDek(dek)));
    rows.push(
      await pair('home rewrap DEK (in HSM)', bareRewrap, () => home.rewrap(wrapped, home.kekId, home.kekId)),
    );
    rows.push(await pair('Ed25519 checkpoint sign', bareEd, () => log.signEd25519(note)));
    const syncRate = median([await rate(syncSign), await rate(syncSign), await rate(syncSign)]);

    for (const s of [...cs, hs, ls]) p11.C_CloseSession(s);
    custodian.close();
    home.close();
    log.close();

    const fmt = (n?: number) => (n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));
    const lines = [
      '| operation | bare pkcs11js ops/s | hsm/ layer ops/s | layer / bare |',
      '|---|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.op} | ${fmt(r.bare)} | ${fmt(r.layer)} | ${r.bare ? (r.layer / r.bare).toFixed(2) : '—'} |`,
      ),
      `| (reference) ECDSA sign, bare synchronous C_Sign | ${fmt(syncRate)} | — | — |`,
    ];
    process.stdout.write(
      `\nSoftHSM2 via ${MODULE}; Node ${process.version}; ${3 * SECONDS}s per side in ${SLICES} interleaved slices\n\n${lines.join('\n')}\n`,
    );
    const worst = Math.min(...rows.filter((r) => r.bare).map((r) => r.layer / r.bare!));
    process.stdout.write(`\nworst layer/bare ratio: ${worst.toFixed(2)} (target ≥ 0.80)\n`);
  } finally {
    if (KEEP) process.stderr.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
