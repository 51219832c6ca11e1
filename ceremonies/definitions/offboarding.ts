/**
 * Custodian offboarding: the rotation ceremony (rotation.ts) run without the leaving custodian. The
 * domain's key is reshared to a new epoch over the remaining custodians, every archive is rewrapped,
 * and the leaving custodian's share is destroyed in their token (signed) or, when their token is lost
 * (`lost`), declared lost by the administrator and the station.
 */
import { rotationCeremony, rotationDefinition } from './rotation.ts';

export const definition = rotationDefinition(true);
export const ceremony = rotationCeremony(true);
