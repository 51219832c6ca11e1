/** CLI access to HSM tokens: module path, the development token directory, and PIN sources. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type HomeHsm, openHome, resolvePin } from '../../hsm/index.ts';

/** Options every command that touches a token accepts. */
export const hsmOptions = {
  'data-dir': { type: 'string' },
  'pkcs11-module': { type: 'string' },
  'pin-file': { type: 'string' },
  dev: { type: 'boolean' },
} as const;

export const HSM_HELP = `
HSM options (see docs/HSM.md):
  --data-dir DIR         local state (default $EMBASSY_DATA_DIR or ./.embassy); in development it
                         holds softhsm2.conf and the SoftHSM2 tokens made by npm run hsm:init
  --pkcs11-module PATH   PKCS#11 module (default $EMBASSY_PKCS11_MODULE, else SoftHSM2's)
  --pin-file FILE        a PIN, or a JSON map of token label to PIN
  --dev                  read development PINs from DIR/dev-pins.json (SoftHSM2 only)
PINs otherwise come from EMBASSY_PIN_<LABEL>, EMBASSY_PIN, then a hidden prompt on a TTY.`;

export interface HsmArgs {
  'data-dir'?: string;
  'pkcs11-module'?: string;
  'pin-file'?: string;
  dev?: boolean;
}

export const dataDirOf = (args: HsmArgs): string =>
  args['data-dir'] ?? process.env.EMBASSY_DATA_DIR ?? '.embassy';

/**
 * Points SoftHSM2 at the data directory's development tokens, unless the caller chose a
 * configuration already. Must run before the PKCS#11 module is loaded.
 */
export function useDevTokens(args: HsmArgs): void {
  const conf = join(dataDirOf(args), 'softhsm2.conf');
  if (process.env.SOFTHSM2_CONF === undefined && existsSync(conf)) process.env.SOFTHSM2_CONF = conf;
}

/** What opening a token needs: its label, the PIN from the configured sources, the module path. */
export async function tokenAccess(
  label: string,
  args: HsmArgs,
): Promise<{ label: string; pin: string; module?: string }> {
  useDevTokens(args);
  const module = args['pkcs11-module'];
  const { pin } = await resolvePin({
    label,
    pinFile: args['pin-file'],
    dev: args.dev,
    dataDir: dataDirOf(args),
    module,
  });
  return { label, pin, ...(module ? { module } : {}) };
}

export async function openHomeFromArgs(label: string, args: HsmArgs): Promise<HomeHsm> {
  return openHome(await tokenAccess(label, args));
}
