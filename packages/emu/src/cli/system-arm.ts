#!/usr/bin/env node
/** `tsemu-system-arm`: QEMU's command line for the ARM machines (see `-help`). */
import { parseSystemCommandLine } from './parse.js';
import { runProgram, stdIo } from './run-program.js';

const program = 'tsemu-system-arm';
void runProgram(() => parseSystemCommandLine(process.argv.slice(2)), stdIo(program));
