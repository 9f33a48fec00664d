#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's ESM loader, so `npx dsa` works right after
// `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { runMain } = await import('../src/main.ts');
await runMain();
