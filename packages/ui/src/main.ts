/** `tsemu-ui`: see cli.ts for the options. */
import { main } from './cli.js';

void main(process.argv.slice(2)).then((status) => process.exit(status));
