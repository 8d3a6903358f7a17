/**
 * node:crypto's SHA-256 for the model's state hash: the same digest as the model's pure default
 * (@noble/hashes), computed natively (~15x faster here), so snapshots of large states do not hold
 * the event loop for long. The model stays free of node:* imports; the shell passes this in.
 */
import { createHash } from 'node:crypto';
import type { Sha256 } from '../model/index.ts';

export const nativeSha256: Sha256 = () => createHash('sha256');
