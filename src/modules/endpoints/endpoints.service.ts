import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { assertCan, currentAbility } from '../../common/authz/access';
import { abilityToSql } from '../../common/authz/ability-sql';
import { badInput, conflict, notFound } from '../../common/errors/app-error';
import { FieldErrors, isUuid, requireUuid } from '../../common/errors/validation';
import { APP_CONFIG } from '../../common/infrastructure/tokens';
import { parsePageRequest, toPage } from '../../common/pagination/cursor';
import { actorOf } from '../../common/request-context/principal';
import { currentContext, currentManager, currentTenantId, getRepository } from '../../common/request-context/request-context';
import type { RuntimeConfig } from '../../config/runtime-config';
import { AuditService } from '../audit/audit.service';
import { placeJob } from '../fine-tuning/placement';
import { ModelEntity, ModelVersionEntity } from '../models/model.entities';
import { toModelVersionModel } from '../models/model-views';
import { ProjectEntity } from '../projects/project.entity';
import { loadReadableProject } from '../projects/project-access';
import { EncryptedObjectsService } from '../storage/encrypted-objects.service';
import { StoredObjectEntity } from '../storage/storage.entities';
import { TenantEntity } from '../tenancy/tenant.entity';
import { EndpointEntity, EndpointEventEntity, Environment } from './endpoint.entities';
import { CreateEndpointInput, EndpointModel, UpdateEndpointInput } from './models/endpoint.model';
import { ServingStateService } from './serving-state.service';

const MAX_REPLICAS = 16;

@Injectable()
export class EndpointsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: RuntimeConfig,
    private readonly audit: AuditService,
    private readonly serving: ServingStateService,
    private readonly objects: EncryptedObjectsService,
  ) {}

  async create(input: CreateEndpointInput): Promise<EndpointModel> {
    const settings = this.checkSettings({ minReplicas: input.minReplicas ?? 0, maxReplicas: input.maxReplicas ?? 1, idleTimeoutSeconds: input.idleTimeoutSeconds ?? 300, rateLimitPerMinute: input.rateLimitPerMinute ?? this.config.serving.rateLimitPerMinute });
    const errors = new FieldErrors();
    errors.check(isUuid(input.projectId), 'projectId', 'must be a UUID');
    errors.check(isUuid(input.modelVersionId), 'modelVersionId', 'must be a UUID');
    errors.check(input.name.trim().length >= 1 && input.name.length <= 100, 'name', 'must be 1 to 100 characters');
    errors.throwIfAny();
    const project = await getRepository(ProjectEntity).findOneBy({ id: input.projectId.toLowerCase(), tenantId: currentTenantId() });
    if (!project) throw notFound('Project');
    assertCan('create', 'Endpoint', { projectId: project.id });
    assertCan('deploy', 'Endpoint', { projectId: project.id, environment: input.environment });
    if (project.archivedAt) throw conflict('The project is archived');
    const version = await this.deployableVersion(input.modelVersionId, project.id, input.environment);
    const tenant = await getRepository(TenantEntity).findOneByOrFail({ id: currentTenantId() });
    const placement = placeJob(this.config.training.pools, tenant, input.gpuClass);
    if ('reason' in placement) throw badInput('gpuClass', placement.reason);

    const endpoint: EndpointEntity = Object.assign(new EndpointEntity(), {
      id: randomUUID(),
      tenantId: tenant.id,
      projectId: project.id,
      name: input.name.trim(),
      environment: input.environment,
      modelVersionId: version.id,
      ...settings,
      poolId: placement.pool.id,
      region: placement.pool.region,
      promotedFromEndpointId: null,
      driftStatus: 'OK',
      createdBy: actorOf(currentContext().principal).actorId,
      deletedAt: null,
    });
    await this.insert(endpoint);
    await this.event(endpoint, 'info', `deployed model version ${version.version} to ${endpoint.environment} on pool ${endpoint.poolId}`);
    await this.audit.record({ action: 'endpoint.create', resourceType: 'Endpoint', resourceId: endpoint.id, details: { environment: endpoint.environment, modelVersionId: version.id, pool: endpoint.poolId } });
    await this.publishAfterCommit(endpoint);
    return this.view(endpoint);
  }

  async update(id: string, input: UpdateEndpointInput): Promise<EndpointModel> {
    const endpoint = await this.load(id);
    assertCan('update', 'Endpoint', { projectId: endpoint.projectId });
    assertCan('deploy', 'Endpoint', { projectId: endpoint.projectId, environment: endpoint.environment });
    const settings = this.checkSettings({
      minReplicas: input.minReplicas ?? endpoint.minReplicas,
      maxReplicas: input.maxReplicas ?? endpoint.maxReplicas,
      idleTimeoutSeconds: input.idleTimeoutSeconds ?? endpoint.idleTimeoutSeconds,
      rateLimitPerMinute: input.rateLimitPerMinute ?? endpoint.rateLimitPerMinute,
    });
    const changes: Partial<EndpointEntity> = { ...settings };
    if (input.name) changes.name = input.name.trim();
    if (input.modelVersionId && input.modelVersionId.toLowerCase() !== endpoint.modelVersionId) {
      const version = await this.deployableVersion(requireUuid(input.modelVersionId, 'modelVersionId'), endpoint.projectId, endpoint.environment);
      changes.modelVersionId = version.id;
      changes.driftStatus = 'OK';
      await this.event(endpoint, 'info', `model swapped to version ${version.version}; in-flight calls finish on the previous one`);
    }
    await getRepository(EndpointEntity).update({ id: endpoint.id }, changes);
    const updated = await getRepository(EndpointEntity).findOneByOrFail({ id: endpoint.id });
    await this.audit.record({ action: 'endpoint.update', resourceType: 'Endpoint', resourceId: endpoint.id, details: { changed: Object.keys(changes), modelVersionId: updated.modelVersionId } });
    await this.publishAfterCommit(updated);
    return this.view(updated);
  }

  /** STAGING → PRODUCTION: a production endpoint of the same name gets the new version, or is created. */
  async promote(id: string): Promise<EndpointModel> {
    const staging = await this.load(id);
    if (staging.environment !== 'STAGING') throw badInput('id', 'only a STAGING endpoint can be promoted');
    assertCan('promote', 'Endpoint', { projectId: staging.projectId });
    assertCan('deploy', 'Endpoint', { projectId: staging.projectId, environment: 'PRODUCTION' });
    const version = await this.deployableVersion(staging.modelVersionId, staging.projectId, 'PRODUCTION');
    const repository = getRepository(EndpointEntity);
    let production = await repository
      .createQueryBuilder('e')
      .where('e.project_id = :projectId AND e.environment = :env AND lower(e.name) = lower(:name) AND e.deleted_at IS NULL', { projectId: staging.projectId, env: 'PRODUCTION', name: staging.name })
      .getOne();
    if (production) {
      await repository.update({ id: production.id }, { modelVersionId: version.id, promotedFromEndpointId: staging.id, driftStatus: 'OK' });
      production = await repository.findOneByOrFail({ id: production.id });
    } else {
      production = Object.assign(new EndpointEntity(), { ...staging, id: randomUUID(), environment: 'PRODUCTION' as Environment, promotedFromEndpointId: staging.id, driftStatus: 'OK', createdBy: actorOf(currentContext().principal).actorId });
      await this.insert(production);
    }
    const actor = actorOf(currentContext().principal);
    await this.event(production, 'info', `promoted from STAGING endpoint ${staging.id} (model version ${version.version})`);
    await this.audit.record({
      action: 'endpoint.promote',
      resourceType: 'Endpoint',
      resourceId: production.id,
      details: { fromStagingEndpointId: staging.id, modelVersionId: version.id, promotedBy: actor.actorId, promotedByType: actor.actorType, promotedAt: new Date().toISOString() },
    });
    await this.publishAfterCommit(production);
    return this.view(production);
  }

  async delete(id: string): Promise<boolean> {
    const endpoint = await this.load(id);
    assertCan('delete', 'Endpoint', { projectId: endpoint.projectId });
    assertCan('deploy', 'Endpoint', { projectId: endpoint.projectId, environment: endpoint.environment });
    await getRepository(EndpointEntity).update({ id: endpoint.id }, { deletedAt: new Date() });
    await this.audit.record({ action: 'endpoint.delete', resourceType: 'Endpoint', resourceId: endpoint.id, details: { environment: endpoint.environment } });
    currentContext().afterCommit.push(() => this.serving.withdraw(endpoint.poolId, endpoint.id));
    return true;
  }

  async get(id: string): Promise<EndpointModel> {
    return this.view(await this.load(id));
  }

  async list(projectId: string, first?: number, after?: string) {
    const page = parsePageRequest(first, after);
    const project = await loadReadableProject(projectId);
    const query = this.readable().andWhere('e.project_id = :projectId', { projectId: project.id });
    const totalCount = await query.clone().getCount();
    if (page.after) query.andWhere('(e.created_at, e.id) < (:createdAt, :id)', page.after);
    const rows = await query.orderBy('e.created_at', 'DESC').addOrderBy('e.id', 'DESC').take(page.first + 1).getMany();
    const result = toPage(rows, page, totalCount);
    const edges = [];
    for (const e of result.edges) edges.push({ cursor: e.cursor, node: await this.view(e.node) });
    return { ...result, edges };
  }

  async load(id: string): Promise<EndpointEntity> {
    const endpoint = await this.readable().andWhere('e.id = :id', { id: requireUuid(id) }).getOne();
    if (!endpoint) throw notFound('Endpoint');
    return endpoint;
  }

  async view(endpoint: EndpointEntity): Promise<EndpointModel> {
    const version = await getRepository(ModelVersionEntity).findOneByOrFail({ id: endpoint.modelVersionId });
    const state = await this.serving.state(endpoint.id);
    const events = await getRepository(EndpointEventEntity).find({ where: { endpointId: endpoint.id }, order: { id: 'DESC' }, take: 20 });
    return {
      id: endpoint.id,
      projectId: endpoint.projectId,
      name: endpoint.name,
      environment: endpoint.environment,
      status: state.status,
      replicas: state.replicas,
      failure: state.failure,
      modelVersion: toModelVersionModel(version),
      minReplicas: endpoint.minReplicas,
      maxReplicas: endpoint.maxReplicas,
      idleTimeoutSeconds: endpoint.idleTimeoutSeconds,
      rateLimitPerMinute: endpoint.rateLimitPerMinute,
      pool: endpoint.poolId,
      region: endpoint.region,
      promotedFromEndpointId: endpoint.promotedFromEndpointId,
      driftBaselinePresent: version.driftBaseline !== null,
      events: events.map((e) => ({ at: e.at, level: e.level, message: e.message })),
      createdAt: endpoint.createdAt,
    };
  }

  async event(endpoint: EndpointEntity, level: 'info' | 'warn' | 'error', message: string): Promise<void> {
    await getRepository(EndpointEventEntity).insert({ tenantId: endpoint.tenantId, endpointId: endpoint.id, at: new Date(), level, message });
  }

  private readable() {
    const query = getRepository(EndpointEntity).createQueryBuilder('e').where('e.tenant_id = :tenantId AND e.deleted_at IS NULL', { tenantId: currentTenantId() });
    const allowed = abilityToSql(currentAbility(), 'read', 'Endpoint', { projectId: 'e.project_id' });
    return allowed ? query.andWhere(allowed.sql, allowed.params) : query.andWhere('FALSE');
  }

  /** A PRODUCTION deployment needs a model card and a drift baseline. */
  private async deployableVersion(id: string, projectId: string, environment: Environment): Promise<ModelVersionEntity> {
    const version = await getRepository(ModelVersionEntity).findOneBy({ id: id.toLowerCase(), tenantId: currentTenantId() });
    const model = version ? await getRepository(ModelEntity).findOneBy({ id: version.modelId }) : null;
    if (!version || !model || model.projectId !== projectId) throw notFound('ModelVersion');
    if (environment === 'PRODUCTION') {
      const errors = new FieldErrors();
      errors.check(Object.keys(version.modelCard ?? {}).length > 0, 'modelVersionId', 'has no model card; PRODUCTION needs one');
      errors.check(version.driftBaseline !== null, 'modelVersionId', 'has no drift baseline; PRODUCTION needs one');
      errors.throwIfAny();
    }
    return version;
  }

  private checkSettings(settings: { minReplicas: number; maxReplicas: number; idleTimeoutSeconds: number; rateLimitPerMinute: number }) {
    const errors = new FieldErrors();
    errors.check(Number.isInteger(settings.maxReplicas) && settings.maxReplicas >= 1 && settings.maxReplicas <= MAX_REPLICAS, 'maxReplicas', `must be from 1 to ${MAX_REPLICAS}`);
    errors.check(Number.isInteger(settings.minReplicas) && settings.minReplicas >= 0 && settings.minReplicas <= settings.maxReplicas, 'minReplicas', 'must be from 0 to maxReplicas');
    errors.check(Number.isInteger(settings.idleTimeoutSeconds) && settings.idleTimeoutSeconds >= 5 && settings.idleTimeoutSeconds <= 86400, 'idleTimeoutSeconds', 'must be from 5 to 86400');
    errors.check(Number.isInteger(settings.rateLimitPerMinute) && settings.rateLimitPerMinute >= 1 && settings.rateLimitPerMinute <= 1_000_000, 'rateLimitPerMinute', 'must be from 1 to 1000000');
    errors.throwIfAny();
    return settings;
  }

  private async insert(endpoint: EndpointEntity): Promise<void> {
    try {
      await getRepository(EndpointEntity).insert(endpoint);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw conflict(`An endpoint named "${endpoint.name}" already exists in ${endpoint.environment}`);
      throw error;
    }
  }

  private async publishAfterCommit(endpoint: EndpointEntity): Promise<void> {
    const version = await getRepository(ModelVersionEntity).findOneByOrFail({ id: endpoint.modelVersionId });
    const object = await getRepository(StoredObjectEntity).findOneByOrFail({ id: version.artifactObjectId });
    const readGrant = await this.objects.readGrant(currentManager(), object.id);
    currentContext().afterCommit.push(() =>
      this.serving.publish(endpoint.poolId, {
        endpointId: endpoint.id,
        tenantId: endpoint.tenantId,
        modelVersionId: version.id,
        artifact: { objectId: object.id, storageKey: object.storageKey, sha256: object.sha256, readGrant },
        minReplicas: endpoint.minReplicas,
        maxReplicas: endpoint.maxReplicas,
        idleTimeoutSeconds: endpoint.idleTimeoutSeconds,
      }),
    );
  }
}
