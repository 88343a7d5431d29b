import type { Command } from 'commander';
import { loadStack, stackJsonSchema } from '../../spec/index.js';
import { action, print, requireStack, withCommon, type GlobalOptions } from '../common.js';

export function registerValidate(program: Command): void {
  withCommon(program.command('validate').description('check the stack file: syntax, schema, references, files, ports')).action(
    action(async (o: GlobalOptions) => {
      const stack = loadStack(requireStack(o), { env: o.env });
      print(o, `${stack.file}: valid (${stack.services.length} services, environment ${stack.env})`, { valid: true, file: stack.file, env: stack.env, services: stack.services.map((s) => s.name) });
    }),
  );
  program
    .command('schema')
    .description('print the JSON Schema of the stack file, for editors')
    .action(action(async () => void process.stdout.write(JSON.stringify(stackJsonSchema(), null, 2) + '\n')));
}
