import { badInput, FieldError } from './app-error';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/** Ids are UUIDs; anything else is a malformed id, reported on the field that carried it. */
export function requireUuid(value: string, field = 'id'): string {
  if (!isUuid(value)) throw badInput(field, 'must be a UUID');
  return value.toLowerCase();
}

/** Collects field errors so one response names every bad field, not only the first. */
export class FieldErrors {
  private readonly errors: FieldError[] = [];

  add(field: string, message: string): this {
    this.errors.push({ field, message });
    return this;
  }

  check(condition: boolean, field: string, message: string): this {
    if (!condition) this.add(field, message);
    return this;
  }

  throwIfAny(): void {
    if (this.errors.length > 0) throw badInput(this.errors);
  }
}

export function trimmedLength(value: string | undefined | null): number {
  return (value ?? '').trim().length;
}
