import type { Request } from 'express';
import type { z } from 'zod';
import { HttpError } from '../core/errors.ts';

/** Validates part of a request with a zod schema at the edge; a bad one is a 400 that names each problem. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params' = 'body'): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => `${i.path.join('.') || where}: ${i.message}`);
  throw new HttpError(400, 'invalid_request', `the ${where} is not valid: ${details.join('; ')}`, { details });
}

export const body = <S extends z.ZodType>(schema: S, req: Request) => validate(schema, req.body, 'body');
