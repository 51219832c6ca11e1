// The layer checker (`npm run lint`) refuses wrong-way imports and folder cycles.
import { describe, expect, it } from 'vitest';
import { checkTree } from './fixture.ts';

describe('wrong-way imports', () => {
  it('refuses a pure module importing a service, with one line naming both', () => {
    const findings = checkTree({
      'src/crypto/keys.ts': "import { appendEntry } from '../audit/log.ts';\nexport const k = appendEntry;\n",
      'src/audit/log.ts': 'export const appendEntry = 1;\n',
    });
    expect(findings).toEqual([
      'src/crypto/keys.ts: imports src/audit/log.ts (layer pure may not import layer services)',
    ]);
  });

  it('refuses a service importing devkit, demo, cli or test, statically, dynamically or by re-export', () => {
    const findings = checkTree({
      'ceremonies/env.ts': "import type { World } from '../src/devkit/world.ts';\nexport type W = World;\n",
      'src/jobs/a.ts': "export * from '../demo/story.ts';\n",
      'src/coordinator/b.ts': "export const main = async () => (await import('../cli/main.ts')).main;\n",
      'src/station/c.ts': "export { helper } from '../../test/station/helpers.ts';\n",
      'src/devkit/world.ts': 'export type World = 1;\n',
      'src/demo/story.ts': '',
      'src/cli/main.ts': '',
    });
    expect(findings).toEqual([
      'ceremonies/env.ts: imports src/devkit/world.ts (layer services may not import layer shells)',
      'src/coordinator/b.ts: imports src/cli/main.ts (layer services may not import layer shells)',
      'src/jobs/a.ts: imports src/demo/story.ts (layer services may not import layer shells)',
      'src/station/c.ts: imports test/station/helpers.ts (layer services may not import layer test)',
    ]);
  });

  it('refuses an I/O module importing a service, and a pure one importing I/O', () => {
    const findings = checkTree({
      'hsm/station.ts': "import '../src/custodian/client.ts';\n",
      'src/errors.ts': "import { x } from './store/index.ts';\n",
    });
    expect(findings).toEqual([
      'hsm/station.ts: imports src/custodian/client.ts (layer io may not import layer services)',
      'src/errors.ts: imports src/store/index.ts (layer pure may not import layer io)',
    ]);
  });

  it('refuses a file in a folder that is in no layer', () => {
    expect(checkTree({ 'src/misc/a.ts': '' })).toEqual([
      'src/misc/a.ts: src/misc is not in any layer (add it to LAYERS in scripts/check-layers.mjs)',
    ]);
  });

  it('ignores imports in comments and strings, package imports, tests and downward imports', () => {
    const findings = checkTree({
      'src/crypto/a.ts': [
        "/** @example import { run } from '../cli/main.ts'; */",
        "// import '../demo/story.ts';",
        'const s = "import \'../devkit/world.ts\'";',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal
        "const t = `${s} from '../audit/log.ts'`;",
        "const re = /import '..\\/audit\\/x.ts'/;",
        "import { sha256 } from '@noble/hashes/sha2.js';",
        "import { z } from '../errors.ts';",
        'export { s, t, re, sha256, z };',
      ].join('\n'),
      'src/crypto/a.test.ts': "import '../../src/demo/story.ts';\n",
      'src/cli/main.ts':
        "import '../audit/log.ts';\nimport '../crypto/a.ts';\nimport '../../hsm/index.ts';\n",
      'src/audit/log.ts': "import '../store/index.ts';\n",
      'src/errors.ts': '',
    });
    expect(findings).toEqual([]);
  });
});

describe('folder cycles', () => {
  it('refuses a cycle between two folders of one layer, naming an import on each step', () => {
    const findings = checkTree({
      'src/audit/ceremony-check.ts':
        "import { policy } from '../coordinator/policy.ts';\nexport { policy };\n",
      'src/coordinator/app.ts': "import { log } from '../audit/log.ts';\nexport { log };\n",
      'src/coordinator/policy.ts': 'export const policy = 1;\n',
      'src/audit/log.ts': 'export const log = 1;\n',
    });
    expect(findings).toEqual([
      'folder cycle: src/audit -> src/coordinator -> src/audit (src/audit/ceremony-check.ts imports ' +
        'src/coordinator/policy.ts; src/coordinator/app.ts imports src/audit/log.ts)',
    ]);
  });

  it('refuses each cycle once, a longer one included, besides the wrong-way import', () => {
    const findings = checkTree({
      'src/archive/a.ts': "import '../jobs/b.ts';\n",
      'src/jobs/b.ts': "import '../station/c.ts';\n",
      'src/station/c.ts': "import '../archive/a.ts';\n",
      'hsm/index.ts': "import '../src/archive/a.ts';\nimport '../src/store/x.ts';\n",
      'src/store/x.ts': "import '../../hsm/index.ts';\n",
    });
    expect(findings).toEqual([
      'hsm/index.ts: imports src/archive/a.ts (layer io may not import layer services)',
      'folder cycle: hsm -> src/store -> hsm (hsm/index.ts imports src/store/x.ts; src/store/x.ts imports hsm/index.ts)',
      'folder cycle: src/archive -> src/jobs -> src/station -> src/archive (src/archive/a.ts imports ' +
        'src/jobs/b.ts; src/jobs/b.ts imports src/station/c.ts; src/station/c.ts imports src/archive/a.ts)',
    ]);
  });
});
