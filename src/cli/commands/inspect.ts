import { inspectArchive } from '../../archive/index.ts';
import { type Command, parse } from '../command.ts';
import { UsageError } from '../errors.ts';
import { inputFrom } from '../io.ts';

const help = `
Usage: embassy inspect [--json] [FILE]

Prints an archive's header without any key: manifest, stanzas (quorum key id and epoch, home key
id), header and body sizes, chunk count. Nothing here is authenticated until the archive is opened.

Options:
  --json   machine-readable output
`;

export const inspect: Command = {
  name: 'inspect',
  summary: "print an archive's header without a key",
  help,
  async run(argv) {
    const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, help);
    if (positionals.length > 1) throw new UsageError('inspect takes at most one file');
    const { src } = await inputFrom(positionals[0]);
    const s = await inspectArchive(src);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      return 0;
    }
    const m = s.manifest;
    const lines = [
      `data-embassy archive, format version ${s.version} (unauthenticated until opened)`,
      `  domain:        ${m.domain}`,
      `  snapshot:      ${m.snapshotId}`,
      `  sealed epoch:  ${m.sealEpoch}`,
      `  created:       ${m.createdAt}`,
      `  content type:  ${m.contentType}`,
      ...(m.name ? [`  name:          ${m.name}`] : []),
      `  stanzas:`,
      ...s.stanzas.map((st) =>
        st.type === 'quorum'
          ? `    quorum  key ${st.keyId}  epoch ${st.epoch}`
          : st.type === 'home'
            ? `    home    kek ${st.kekId}`
            : st.type === 'maker'
              ? `    maker   ${st.signer}  sequence ${st.sequence} (signature checked by the station)`
              : `    unknown type 0x${st.code.toString(16).padStart(2, '0')} (${st.length} bytes)`,
      ),
      `  header:        ${s.headerBytes} bytes`,
      `  body:          ${s.bodyBytes} bytes in ${s.chunks} chunks (${s.plaintextBytes} bytes of plaintext)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
