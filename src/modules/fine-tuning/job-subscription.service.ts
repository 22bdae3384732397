import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../../common/infrastructure/tokens';
import { RequestContext, requestContextStorage } from '../../common/request-context/request-context';
import { withScopedTransaction } from '../../database/scoped-transaction';
import { FineTuningService } from './fine-tuning.service';
import { JobUpdatesService } from './job-updates.service';
import { FineTuningJobModel } from './models/fine-tuning.model';

/**
 * `fineTuningJobUpdated`: checks the job exists for the subscriber's tenant (NOT_FOUND otherwise),
 * then streams the job each time any api pod publishes a change, re-read under the subscriber's
 * own tenant scope.
 */
@Injectable()
export class JobSubscriptionService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly jobs: FineTuningService,
    private readonly updates: JobUpdatesService,
  ) {}

  async subscribe(id: string, context: RequestContext): Promise<AsyncIterableIterator<FineTuningJobModel>> {
    const read = () =>
      requestContextStorage.run({ ...context, pendingAudit: [], afterCommit: [], transaction: undefined }, () =>
        withScopedTransaction(this.dataSource, { tenantId: context.tenantId! }, async (manager) => {
          const store = requestContextStorage.getStore()!;
          store.transaction = { queryRunner: manager.queryRunner!, manager };
          return this.jobs.view(await this.jobs.load(id));
        }),
      );
    const first = await read();
    const source = this.updates.iterator();
    const jobId = first.id;
    const tenantId = context.tenantId;
    async function* stream(): AsyncGenerator<FineTuningJobModel> {
      yield first;
      for await (const update of source) {
        if (update.jobId !== jobId || update.tenantId !== tenantId) continue;
        const job = await read();
        yield job;
        if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) return;
      }
    }
    const iterator = stream();
    const close = iterator.return.bind(iterator);
    iterator.return = async (value?: unknown) => {
      await source.return?.();
      return close(value as FineTuningJobModel);
    };
    return iterator;
  }
}
