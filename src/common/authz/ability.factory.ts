import { AbilityBuilder, createMongoAbility, MongoAbility, subject as asSubject } from '@casl/ability';
import { capabilitiesOf, Capability, Role } from './roles';

export type Action = 'read' | 'create' | 'update' | 'archive' | 'delete' | 'manage' | 'start' | 'cancel' | 'deploy' | 'promote' | 'predict' | 'verify' | 'export' | 'rotateKey' | 'readContent';
export type SubjectName =
  | 'Tenant'
  | 'Member'
  | 'ApiKey'
  | 'Project'
  | 'Dataset'
  | 'Job'
  | 'Model'
  | 'Endpoint'
  | 'Usage'
  | 'Budget'
  | 'Audit'
  | 'all';

export type AppAbility = MongoAbility<[Action, SubjectName | Record<string, unknown>]>;

export interface AbilityInput {
  role: Role;
  /** An API key may be restricted to one project: it then sees nothing outside it. */
  projectId?: string | null;
}

const PROJECT_SCOPED: SubjectName[] = ['Dataset', 'Job', 'Model', 'Endpoint'];

export function buildAbility({ role, projectId }: AbilityInput): AppAbility {
  const { can, cannot, build } = new AbilityBuilder<AppAbility>(createMongoAbility);
  const caps = capabilitiesOf(role);
  const has = (c: Capability) => caps.has(c);
  const projectCondition = projectId ? { id: projectId } : undefined;
  const projectChildCondition = projectId ? { projectId } : undefined;

  if (has('tenant.read')) can('read', 'Tenant');
  if (!projectId) {
    if (has('tenant.manage')) can('update', 'Tenant');
    if (has('tenant.rotateKey')) can('rotateKey', 'Tenant');
    if (has('members.manage')) {
      can('manage', 'Member');
      if (role !== 'OWNER') cannot(['update', 'delete'], 'Member', { role: 'OWNER' });
    }
    if (has('apiKeys.manage')) can('manage', 'ApiKey');
    if (has('billing.read')) can(['read', 'export'], 'Usage');
    if (has('billing.read')) can('read', 'Budget');
    if (has('budget.write')) can('update', 'Budget');
    if (has('audit.read')) can(['read', 'verify', 'export'], 'Audit');
    if (has('projects.write')) can('create', 'Project');
  }
  if (has('projects.read')) {
    can('read', 'Project', projectCondition);
    can('read', PROJECT_SCOPED, projectChildCondition);
  }
  if (has('projects.write')) can(['update', 'archive'], 'Project', projectCondition);
  if (has('work.start')) {
    can(['create', 'start', 'cancel', 'delete'], ['Dataset', 'Job'], projectChildCondition);
    can('readContent', 'Dataset', projectChildCondition);
    can(['create', 'update', 'delete'], 'Endpoint', projectChildCondition);
    can('deploy', 'Endpoint', { ...projectChildCondition, environment: 'STAGING' });
  }
  if (has('endpoints.deployProduction')) can(['deploy', 'promote'], 'Endpoint', projectChildCondition);
  if (has('endpoints.predict')) can('predict', 'Endpoint', projectChildCondition);

  return build();
}

export { asSubject };
