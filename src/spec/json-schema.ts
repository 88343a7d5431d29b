import { z } from 'zod';
import { StackSpec } from './schema.js';

/**
 * JSON Schema (draft 2020-12) of the stack file for editors, generated from
 * the zod schema the loader validates with. Describes the input as written
 * (durations as strings or numbers, env values as strings, numbers or booleans).
 */
export function stackJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(StackSpec, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://symphony.dev/schema/stack.json',
    title: 'Symphony stack file',
    description: 'One file that describes a stack of services; see docs/stack-file.md',
  };
}
