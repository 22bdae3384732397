import { createHash } from 'node:crypto';

/** The hash that precedes a tenant's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** Audit events without a tenant (e.g. a failed login for an unknown email) form this chain. */
export const PLATFORM_TENANT_ID = '00000000-0000-0000-0000-000000000000';

export interface ChainedEventFields {
  tenantId: string;
  seq: string;
  id: string;
  at: Date;
  actorType: string;
  actorId: string | null;
  action: string;
  resourceType: string | null;
  resourceId: string | null;
  outcome: string;
  requestId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

/** JSON with object keys sorted at every depth, so the same event always hashes the same way. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** hash = sha256(prev_hash ‖ canonical event), as DESIGN.md §6 specifies. */
export function chainHash(prevHash: string, event: ChainedEventFields): string {
  // Only the event's own fields are hashed (never prev_hash/hash columns that travel with a row).
  const { tenantId, seq, id, at, actorType, actorId, action, resourceType, resourceId, outcome, requestId, ip, details } = event;
  const canonical = canonicalJson({
    tenantId, seq, id, at: at.toISOString(), actorType, actorId, action, resourceType, resourceId, outcome, requestId, ip, details,
  });
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

export interface ChainVerification {
  valid: boolean;
  checkedCount: number;
  firstInvalidSeq: string | null;
}

/** Folds over events in seq order; the first event whose link or hash does not hold is reported. */
export class ChainVerifier {
  private expectedPrev = GENESIS_HASH;
  private expectedSeq = 1n;
  private checked = 0;
  private firstInvalid: string | null = null;

  accept(event: ChainedEventFields & { prevHash: string; hash: string }): void {
    if (this.firstInvalid !== null) return;
    this.checked++;
    const seqMatches = BigInt(event.seq) === this.expectedSeq;
    const linkMatches = event.prevHash === this.expectedPrev;
    const hashMatches = chainHash(event.prevHash, event) === event.hash;
    if (!seqMatches || !linkMatches || !hashMatches) {
      this.firstInvalid = seqMatches ? event.seq : this.expectedSeq.toString();
      return;
    }
    this.expectedPrev = event.hash;
    this.expectedSeq++;
  }

  result(): ChainVerification {
    return { valid: this.firstInvalid === null, checkedCount: this.checked, firstInvalidSeq: this.firstInvalid };
  }
}
