import type { WorkerEvent } from '../../src/contracts/training';
import { EnvelopeIntegrityError } from '../../src/contracts/envelope';
import { parseDataset } from './datasets';
import { isPermanent, JobError, safeMessage } from './errors';
import { JobReporter, type EventSink } from './events';
import { formatSeconds, usageEventId } from './metering';
import { parsePayload } from './payload';

class MemorySink implements EventSink {
  readonly events: WorkerEvent[] = [];
  async send(event: WorkerEvent): Promise<void> {
    this.events.push(event);
  }
}

describe('metering', () => {
  it('formats seconds as a decimal string with millisecond precision', () => {
    expect(formatSeconds(12.3456)).toBe('12.346');
    expect(formatSeconds(0.0004)).toBe('0.000');
    expect(formatSeconds(0.9996)).toBe('1.000');
    expect(formatSeconds(3)).toBe('3.000');
    expect(formatSeconds(86_400.05)).toBe('86400.050');
    expect(() => formatSeconds(Number.NaN)).toThrow();
  });

  it('builds deterministic usage ids from job, attempt and segment', () => {
    expect(usageEventId('job-1', 2, 5)).toBe('job-1:2:5');
  });
});

describe('JobReporter', () => {
  it('stamps every event with the job, tenant and attempt', async () => {
    const sink = new MemorySink();
    await new JobReporter(sink, { jobId: 'j', tenantId: 't', attempt: 3 }).report('job.cancelled', { epoch: 2 });
    expect(sink.events[0]).toEqual({ type: 'job.cancelled', jobId: 'j', tenantId: 't', attempt: 3, at: expect.any(String), epoch: 2 });
  });

  it('sends at most two progress events per second', () => {
    const sink = new MemorySink();
    const reporter = new JobReporter(sink, { jobId: 'j', tenantId: 't', attempt: 1 });
    for (let batch = 1; batch <= 1000; batch++) reporter.progress({ epoch: 1, batch, batchesPerEpoch: 1000, progress: batch / 1000 });
    expect(sink.events).toHaveLength(1);
  });
});

describe('safe failure messages', () => {
  it('passes on its own messages and envelope phrases, and only the class of anything else', () => {
    expect(safeMessage(new JobError('the training dataset is empty', true), 'reading')).toBe('the training dataset is empty');
    expect(safeMessage(new EnvelopeIntegrityError('segment', 'envelope segment 3 failed authentication'), 'reading the datasets')).toBe('reading the datasets: envelope segment 3 failed authentication');
    const leaky = new TypeError('Invalid value "alice@example.fr" in column email');
    expect(safeMessage(leaky, 'training')).toBe('training failed (TypeError)');
    expect(isPermanent(leaky)).toBe(false);
    expect(isPermanent(new JobError('x', true))).toBe(true);
  });

  it('never quotes a cell of a malformed dataset', () => {
    const error = (() => {
      try {
        parseDataset(Buffer.from('a,b\n1,"secret-value\n'), 'CSV', 'training dataset');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(JobError);
    expect(error!.message).toMatch(/^the training dataset is not valid CSV/);
    expect(error!.message).not.toContain('secret');
    expect(() => parseDataset(Buffer.from('{"a":1}\n{"a":"secret'), 'JSONL', 'training dataset')).toThrow('the training dataset is not valid JSON Lines (line 2)');
  });

  it('reads JSON Lines with fields appearing late, and CSV with a BOM', () => {
    expect(parseDataset(Buffer.from('{"a":1}\n\n{"a":2,"b":true}\n'), 'JSONL', 'd')).toEqual({ columns: ['a', 'b'], rows: [{ a: 1 }, { a: 2, b: true }] });
    expect(parseDataset(Buffer.from('\uFEFFx,y\n1,2\n'), 'CSV', 'd')).toEqual({ columns: ['x', 'y'], rows: [{ x: '1', y: '2' }] });
  });

  it('rejects a malformed payload naming fields, not values', () => {
    expect(() => parsePayload({ kind: 'training', version: 1, jobId: 'j', tenantId: 't', hyperparameters: { epochs: 0 } })).toThrow(/^the job payload is invalid \(.*hyperparameters\.epochs/);
    expect(() => parsePayload({ kind: 'training', version: 2 })).toThrow(JobError);
  });
});
