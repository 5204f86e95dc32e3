#!/usr/bin/env node
import { Command } from 'commander';

const program = new Command();
program.name('latchkey').description('Latchkey: self-hostable, Seam-compatible access codes for smart locks');
await program.parseAsync(process.argv);
