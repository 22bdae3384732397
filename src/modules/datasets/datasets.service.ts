import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, In } from 'typeorm';
import { assertCan } from '../../common/authz/access';
import { badInput, conflict, notFound } from '../../common/errors/app-error';
import { FieldErrors, isUuid } from '../../common/errors/validation';
import { DATA_SOURCE } from '../../common/infrastructure/tokens';
import { parsePageRequest, toPage } from '../../common/pagination/cursor';
import { currentContext, currentManager, currentTenantId, getRepository } from '../../common/request-context/request-context';
import { actorOf } from '../../common/request-context/principal';
import { AuditService } from '../audit/audit.service';
import { ProjectEntity } from '../projects/project.entity';
import { loadReadableProject } from '../projects/project-access';
import { DatasetErasureService } from './dataset-erasure.service';
import { loadReadableDataset, loadReadableVersion, readableDatasets } from './dataset-access';
import { toDatasetModel, toVersionModel } from './dataset-models';
import { DatasetEntity, DatasetRetentionEntity, DatasetVersionEntity } from './dataset.entities';
import { CreateDatasetInput, DatasetModel, DatasetVersionModel } from './models/dataset.model';

@Injectable()
export class DatasetsService {
  private readonly logger = new Logger(DatasetsService.name);

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly erasure: DatasetErasureService,
  ) {}

  async create(input: CreateDatasetInput): Promise<DatasetModel> {
    const pii = input.piiColumns ?? [];
    const errors = new FieldErrors();
    errors.check(isUuid(input.projectId), 'projectId', 'must be a UUID');
    errors.check(input.name.trim().length >= 1 && input.name.length <= 120, 'name', 'must be 1 to 120 characters');
    errors.check(input.purpose.trim().length >= 3 && input.purpose.length <= 1000, 'purpose', 'must be 3 to 1000 characters');
    errors.check(pii.every((c) => c.trim().length > 0 && c.length <= 200), 'piiColumns', 'must be non-empty column names');
    errors.check(new Set(pii).size === pii.length, 'piiColumns', 'must not repeat a column');
    errors.check(input.containsPersonalData || pii.length === 0, 'piiColumns', 'requires containsPersonalData: true');
    errors.check(!input.containsPersonalData || input.legalBasis !== 'NOT_APPLICABLE', 'legalBasis', 'must be a GDPR legal basis when the dataset contains personal data');
    if (input.retentionDays !== undefined && input.retentionDays !== null) {
      errors.check(Number.isInteger(input.retentionDays) && input.retentionDays >= 1 && input.retentionDays <= 36500, 'retentionDays', 'must be between 1 and 36500');
    }
    errors.throwIfAny();

    const project = await getRepository(ProjectEntity).findOneBy({ id: input.projectId.toLowerCase(), tenantId: currentTenantId() });
    if (!project) throw notFound('Project');
    assertCan('create', 'Dataset', { projectId: project.id });
    if (project.archivedAt) throw conflict('The project is archived');

    const id = randomUUID();
    try {
      await getRepository(DatasetEntity).insert({
        id,
        tenantId: currentTenantId(),
        projectId: project.id,
        name: input.name.trim(),
        format: input.format,
        purpose: input.purpose.trim(),
        legalBasis: input.legalBasis,
        containsPersonalData: input.containsPersonalData,
        piiColumns: pii,
        retentionDays: input.retentionDays ?? null,
        createdBy: actorOf(currentContext().principal).actorId,
        erasedAt: null,
      });
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw conflict('A dataset with this name already exists in the project');
      throw error;
    }
    const dataset = await getRepository(DatasetEntity).findOneByOrFail({ id });
    if (dataset.retentionDays) {
      await getRepository(DatasetRetentionEntity).insert({
        datasetId: id,
        tenantId: dataset.tenantId,
        eraseAfter: new Date(dataset.createdAt.getTime() + dataset.retentionDays * 86_400_000),
      });
    }
    await this.audit.record({
      action: 'dataset.create',
      resourceType: 'Dataset',
      resourceId: id,
      details: { projectId: project.id, format: input.format, containsPersonalData: input.containsPersonalData, piiColumns: pii, legalBasis: input.legalBasis, retentionDays: dataset.retentionDays },
    });
    return toDatasetModel(dataset, []);
  }

  async get(id: string): Promise<DatasetModel> {
    const dataset = await loadReadableDataset(id);
    return toDatasetModel(dataset, await this.versionsOf([dataset.id]));
  }

  async list(projectId: string, first?: number, after?: string) {
    const page = parsePageRequest(first, after);
    const project = await loadReadableProject(projectId);
    const query = readableDatasets().andWhere('d.project_id = :projectId', { projectId: project.id });
    const totalCount = await query.clone().getCount();
    if (page.after) query.andWhere('(d.created_at, d.id) < (:createdAt, :id)', page.after);
    const rows = await query.orderBy('d.created_at', 'DESC').addOrderBy('d.id', 'DESC').take(page.first + 1).getMany();
    const versions = await this.versionsOf(rows.map((r) => r.id));
    const result = toPage(rows, page, totalCount);
    return { ...result, edges: result.edges.map((e) => ({ cursor: e.cursor, node: toDatasetModel(e.node, versions.filter((v) => v.datasetId === e.node.id)) })) };
  }

  async version(id: string): Promise<DatasetVersionModel> {
    return toVersionModel((await loadReadableVersion(id)).version);
  }

  /** Erasure: keys destroyed in this transaction, stored objects deleted once it commits. */
  async delete(id: string): Promise<boolean> {
    const dataset = await loadReadableDataset(id);
    assertCan('delete', 'Dataset', { projectId: dataset.projectId });
    const shredded = await this.erasure.erase(currentManager(), dataset, 'request', actorOf(currentContext().principal));
    currentContext().afterCommit.push(() => this.erasure.deleteObjects(shredded));
    return true;
  }

  private async versionsOf(datasetIds: string[]): Promise<DatasetVersionEntity[]> {
    if (datasetIds.length === 0) return [];
    return getRepository(DatasetVersionEntity).find({ where: { datasetId: In(datasetIds), tenantId: currentTenantId() }, order: { version: 'ASC' } });
  }
}
