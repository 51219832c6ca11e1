// One custodian client process recording a release in the journal at argv[2] for a fixed
// ceremony and recipient; prints "recorded" or the error code.
import { ReleaseJournal } from '../../src/custodian/journal.ts';

const journal = new ReleaseJournal(process.argv[2]!);
try {
  journal.record({
    ceremony: new Uint8Array(32).fill(7),
    recipientP256: new Uint8Array(65).fill(1),
    recipientXWing: new Uint8Array(1216).fill(2),
    domain: 'land',
    epoch: 1,
  });
  process.stdout.write('recorded');
} catch (e) {
  process.stdout.write(String((e as { code?: string }).code));
}
