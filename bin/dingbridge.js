#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), the same way in development, tests and the Docker image.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../app/cli.ts');
await main(process.argv);
