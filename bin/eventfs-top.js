#!/usr/bin/env node
// Runs the TypeScript entry point through tsx's loader: no build step, no build output to keep.
import { register } from 'tsx/esm/api';

register();
await import('../tools/top/main.tsx');
