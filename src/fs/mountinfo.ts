import { readFileSync } from 'node:fs';

/** Whether a path is a mountpoint now, from /proc/self/mountinfo (field 5, octal-escaped). */
export function isMounted(absolute: string): boolean {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  return lines.some((line) => unescapeMountPath(line.split(' ')[4] ?? '') === absolute);
}

const unescapeMountPath = (field: string): string =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
