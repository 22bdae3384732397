import { FieldErrors } from '../../common/errors/validation';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,}$/;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function checkEmail(errors: FieldErrors, field: string, email: string): void {
  errors.check(EMAIL_PATTERN.test(email.trim()) && email.length <= 320, field, 'must be a valid email address');
}

/** Length is what matters (NIST 800-63B); the email itself and trivial repeats are refused. */
export function checkPassword(errors: FieldErrors, field: string, password: string, email?: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    errors.add(field, `must be at least ${MIN_PASSWORD_LENGTH} characters`);
    return;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    errors.add(field, `must be at most ${MAX_PASSWORD_LENGTH} characters`);
    return;
  }
  if (new Set(password).size < 4) errors.add(field, 'is too repetitive');
  if (email && password.toLowerCase().includes(normalizeEmail(email).split('@')[0]) && normalizeEmail(email).split('@')[0].length >= 4) {
    errors.add(field, 'must not contain your email address');
  }
}
