/**
 * The bytes of a crash-trial message are a function of its name, so acknowledgement files need
 * not carry them: block i is sha256("TAG/NAME/i"), concatenated and cut to the length. The python
 * workload (workload.py, `content`) computes the same bytes.
 */
import { createHash } from 'node:crypto';

export function messageContent(tag: string, name: string, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0, have = 0; have < length; i++, have += 32) {
    blocks.push(createHash('sha256').update(`${tag}/${name}/${i}`).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

export const sha256Hex = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
