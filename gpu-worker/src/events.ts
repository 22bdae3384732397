import type { Queue } from 'bull';
import type { WorkerEvent } from '../../src/contracts/training';

/** Where a worker's reports go: the worker-events queue, which only the api consumes. */
export interface EventSink {
  send(event: WorkerEvent): Promise<void>;
}

export class QueueEventSink implements EventSink {
  constructor(private readonly queue: Queue) {}

  async send(event: WorkerEvent): Promise<void> {
    await this.queue.add(event, {
      removeOnComplete: true,
      // The api's handler is idempotent; retrying it rides out a database hiccup instead of losing a usage event.
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
    });
  }
}

type JobEvent = Exclude<WorkerEvent, { type: 'worker.heartbeat' }>;
type JobEventType = JobEvent['type'];
export type JobEventFields<T extends JobEventType> = Omit<Extract<JobEvent, { type: T }>, 'type' | 'jobId' | 'tenantId' | 'attempt' | 'at'>;

const PROGRESS_INTERVAL_MS = 500;

/** The events of one attempt of one job, stamped with its ids; progress is throttled to 2 per second. */
export class JobReporter {
  private lastProgressAt = 0;

  constructor(
    private readonly sink: EventSink,
    readonly identity: { jobId: string; tenantId: string; attempt: number },
    private readonly onProgressError: (error: unknown) => void = () => undefined,
  ) {}

  report<T extends JobEventType>(type: T, fields: JobEventFields<T>): Promise<void> {
    // TypeScript cannot correlate `type` with its fields across the union; JobEventFields<T> guarantees it.
    return this.sink.send({ type, ...this.identity, at: new Date().toISOString(), ...fields } as unknown as WorkerEvent);
  }

  /** Fire and forget: called from inside a batch, where awaiting Redis would slow training down. */
  progress(fields: JobEventFields<'job.progress'>): void {
    const now = Date.now();
    if (now - this.lastProgressAt < PROGRESS_INTERVAL_MS) return;
    this.lastProgressAt = now;
    this.report('job.progress', fields).catch(this.onProgressError);
  }
}
