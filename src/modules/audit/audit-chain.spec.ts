import { canonicalJson, chainHash, ChainedEventFields, ChainVerifier, GENESIS_HASH } from './audit-chain';

function event(seq: number, details: Record<string, unknown> = {}): ChainedEventFields {
  return {
    tenantId: '11111111-1111-4111-8111-111111111111',
    seq: String(seq),
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    at: new Date(Date.UTC(2026, 10, 28, 12, 0, seq)),
    actorType: 'user',
    actorId: 'u1',
    action: 'project.create',
    resourceType: 'Project',
    resourceId: `p${seq}`,
    outcome: 'SUCCESS',
    requestId: `r${seq}`,
    ip: '10.0.0.1',
    details,
  };
}

function chain(length: number) {
  const rows = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= length; seq++) {
    const e = event(seq, { n: seq });
    const hash = chainHash(prev, e);
    rows.push({ ...e, prevHash: prev, hash });
    prev = hash;
  }
  return rows;
}

describe('canonicalJson', () => {
  it('sorts keys at every depth so equal objects hash equally', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });
});

describe('chainHash', () => {
  it('ignores stored hash columns and depends on every event field', () => {
    const e = event(1);
    const h = chainHash(GENESIS_HASH, e);
    expect(chainHash(GENESIS_HASH, { ...e, prevHash: 'x', hash: 'y' } as ChainedEventFields)).toBe(h);
    expect(chainHash(GENESIS_HASH, { ...e, outcome: 'DENIED' })).not.toBe(h);
    expect(chainHash('f'.repeat(64), e)).not.toBe(h);
  });
});

describe('ChainVerifier', () => {
  const verify = (rows: ReturnType<typeof chain>) => {
    const verifier = new ChainVerifier();
    rows.forEach((r) => verifier.accept(r));
    return verifier.result();
  };

  it('accepts an intact chain', () => {
    expect(verify(chain(5))).toEqual({ valid: true, checkedCount: 5, firstInvalidSeq: null });
  });

  it('reports the first altered event', () => {
    const rows = chain(5);
    rows[2].details = { n: 999 };
    expect(verify(rows)).toMatchObject({ valid: false, firstInvalidSeq: '3' });
  });

  it('reports a removed event at the gap, and a reordering', () => {
    const rows = chain(5);
    expect(verify([rows[0], rows[1], rows[3], rows[4]])).toMatchObject({ valid: false, firstInvalidSeq: '3' });
    expect(verify([rows[0], rows[2], rows[1]])).toMatchObject({ valid: false, firstInvalidSeq: '2' });
  });

  it('reports a recomputed hash whose link no longer matches the next event', () => {
    const rows = chain(4);
    rows[1].details = { forged: true };
    rows[1].hash = chainHash(rows[1].prevHash, rows[1]);
    expect(verify(rows)).toMatchObject({ valid: false, firstInvalidSeq: '3' });
  });
});
