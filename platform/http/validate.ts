import { z } from 'zod';
import { HttpError } from './router.ts';

/** Validates a parsed body; malformed input is a 422 naming the offending fields, never a crash. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
  throw new HttpError(422, 'validation_error', issues);
}
