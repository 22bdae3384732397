import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { assertCan } from '../../common/authz/access';
import { conflict } from '../../common/errors/app-error';
import { FieldErrors } from '../../common/errors/validation';
import { parsePageRequest, toPage } from '../../common/pagination/cursor';
import { currentContext, currentTenantId, getRepository } from '../../common/request-context/request-context';
import { AuditService } from '../audit/audit.service';
import { CreateProjectInput, ProjectModel, UpdateProjectInput } from './models/project.model';
import { loadReadableProject, readableProjects } from './project-access';
import { ProjectEntity } from './project.entity';

function toModel(project: ProjectEntity): ProjectModel {
  const { id, name, description, dataClassification, archivedAt, createdAt, updatedAt } = project;
  return { id, name, description, dataClassification, archivedAt, archived: archivedAt !== null, createdAt, updatedAt };
}

function checkFields(errors: FieldErrors, input: { name?: string | null; description?: string | null }) {
  if (input.name !== undefined && input.name !== null) {
    errors.check(input.name.trim().length >= 1 && input.name.length <= 120, 'name', 'must be 1 to 120 characters');
  }
  if (input.description) errors.check(input.description.length <= 2000, 'description', 'must be at most 2000 characters');
}

@Injectable()
export class ProjectsService {
  constructor(private readonly audit: AuditService) {}

  async list(first?: number, after?: string) {
    const page = parsePageRequest(first, after);
    const query = this.readable();
    const totalCount = await query.clone().getCount();
    if (page.after) query.andWhere('(p.created_at, p.id) < (:createdAt, :id)', page.after);
    const rows = await query.orderBy('p.created_at', 'DESC').addOrderBy('p.id', 'DESC').take(page.first + 1).getMany();
    const result = toPage(rows, page, totalCount);
    return { ...result, edges: result.edges.map((e) => ({ cursor: e.cursor, node: toModel(e.node) })) };
  }

  async get(id: string): Promise<ProjectModel> {
    return toModel(await this.load(id));
  }

  async create(input: CreateProjectInput): Promise<ProjectModel> {
    const errors = new FieldErrors();
    errors.check(typeof input.name === 'string', 'name', 'is required');
    checkFields(errors, input);
    errors.throwIfAny();
    const { principal } = currentContext();
    const id = randomUUID();
    await this.saving(() =>
      getRepository(ProjectEntity).insert({
        id,
        tenantId: currentTenantId(),
        name: input.name.trim(),
        description: input.description ?? null,
        dataClassification: input.dataClassification,
        archivedAt: null,
        createdBy: principal?.kind === 'user' ? principal.userId : null,
      }),
    );
    await this.audit.record({ action: 'project.create', resourceType: 'Project', resourceId: id, details: { dataClassification: input.dataClassification } });
    return this.get(id);
  }

  async update(id: string, input: UpdateProjectInput): Promise<ProjectModel> {
    const errors = new FieldErrors();
    checkFields(errors, input);
    errors.throwIfAny();
    const project = await this.load(id);
    assertCan('update', 'Project', { ...project });
    if (project.archivedAt) throw conflict('Archived projects cannot be changed');
    const changes: Partial<ProjectEntity> = {};
    if (input.name) changes.name = input.name.trim();
    if (input.description !== undefined) changes.description = input.description ?? null;
    if (input.dataClassification) changes.dataClassification = input.dataClassification;
    await this.saving(() => getRepository(ProjectEntity).update({ id: project.id }, changes));
    await this.audit.record({ action: 'project.update', resourceType: 'Project', resourceId: project.id, details: { changed: Object.keys(changes) } });
    return this.get(project.id);
  }

  async archive(id: string): Promise<ProjectModel> {
    const project = await this.load(id);
    assertCan('archive', 'Project', { ...project });
    if (!project.archivedAt) {
      await getRepository(ProjectEntity).update({ id: project.id }, { archivedAt: new Date() });
      await this.audit.record({ action: 'project.archive', resourceType: 'Project', resourceId: project.id });
    }
    return this.get(project.id);
  }

  private readable() {
    return readableProjects();
  }

  private load(id: string): Promise<ProjectEntity> {
    return loadReadableProject(id, 'id');
  }

  private async saving<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw conflict('A project with this name already exists');
      throw error;
    }
  }
}
