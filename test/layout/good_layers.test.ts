// The repository itself keeps its layers: no wrong-way import, no folder cycle (see scripts/check-layers.mjs).
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { checkLayers } from '../../scripts/check-layers.mjs';

it('src/, hsm/ and ceremonies/ import only downwards and have no folder cycle', () => {
  expect(checkLayers(fileURLToPath(new URL('../..', import.meta.url)))).toEqual([]);
});
