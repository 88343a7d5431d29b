#!/usr/bin/env node
import { Command } from 'commander';
import { registerApply } from './verbs/apply.js';
import { registerDaemons } from './verbs/daemons.js';
import { registerDestroy } from './verbs/destroy.js';
import { registerDrift } from './verbs/drift.js';
import { registerInit } from './verbs/init.js';
import { registerLogs } from './verbs/logs.js';
import { registerMigrate } from './verbs/migrate.js';
import { registerPlan } from './verbs/plan.js';
import { registerStatus } from './verbs/status.js';
import { registerUnlock } from './verbs/unlock.js';
import { registerValidate } from './verbs/validate.js';

const program = new Command('symphony')
  .description('Deliver a stack of services and change it with zero downtime and zero lost data.')
  .version('0.1.0');

for (const register of [registerInit, registerValidate, registerPlan, registerApply, registerStatus, registerLogs, registerDrift, registerDestroy, registerUnlock, registerDaemons, registerMigrate]) {
  register(program);
}

await program.parseAsync(process.argv);
