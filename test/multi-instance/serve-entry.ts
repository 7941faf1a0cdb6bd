/**
 * `callwarden serve` from the TypeScript sources, for the multi-instance test when dist/ is missing or
 * older than src/: run as `node --import tsx test/multi-instance/serve-entry.ts serve` (what
 * bin/callwarden.js does with the compiled CLI).
 */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv);
