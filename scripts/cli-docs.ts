/** Prints docs/cli.md (the command reference) from the CLI's tables: `npm run docs:cli`. */
import { cliReference } from '../cli/reference.js';

process.stdout.write(cliReference());
