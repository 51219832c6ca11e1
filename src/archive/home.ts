/**
 * The home stanza through the home HSM (hsm/home.ts): the DEK is wrapped under the home KEK with
 * AES key wrap with padding; opening asks the HSM to unwrap when it holds the stanza's KEK.
 */
import type { HomeHsm } from '../../hsm/index.ts';
import { fromHex, toHex } from '../crypto/bytes.ts';
import type { HomeUnwrapper } from './open.ts';
import type { HomeWrapper } from './seal.ts';

export function homeWrapper(home: HomeHsm): HomeWrapper {
  return { kekId: fromHex(home.kekId), wrapDek: (dek) => home.wrapDek(dek) };
}

export function homeUnwrapper(home: HomeHsm): HomeUnwrapper {
  return {
    async unwrapDek(stanza) {
      const kekId = toHex(stanza.kekId);
      if (!(await home.kekIds()).includes(kekId)) return undefined;
      return home.unwrapDek(stanza.wrapped, kekId);
    },
  };
}
