import { readdirSync } from 'node:fs';
import { formatProfile, summariseProfile } from './lib/cpuprofile.ts';
const dir = '/tmp/prof-replay';
console.log(formatProfile(summariseProfile(`${dir}/${readdirSync(dir)[0]}`), 30));
