import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Actor } from './actors';
import type { AppUnderTest } from './app-under-test';

export function fixture(name: string): Buffer {
  return readFileSync(join(__dirname, '..', 'fixtures', name));
}

export async function createProject(app: AppUnderTest, actor: Actor, name = `project-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`): Promise<string> {
  const created = await app.graphql('mutation($name: String!) { createProject(input: {name: $name, dataClassification: CONFIDENTIAL}) { id } }', { name }, { token: actor.token, tenantId: actor.tenantId });
  if (!created.data) throw new Error(`createProject failed: ${JSON.stringify(created.errors)}`);
  return created.data.createProject.id;
}

/** Creates a CSV dataset in `projectId` and uploads `content` as its first version. */
export async function uploadCsvDataset(
  app: AppUnderTest,
  actor: Actor,
  projectId: string,
  content: Buffer | string,
  options: { name?: string; piiColumns?: string[] } = {},
): Promise<{ datasetId: string; versionId: string; version: any }> {
  const pii = options.piiColumns ?? [];
  const created = await app.graphql(
    'mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }',
    {
      input: {
        projectId,
        name: options.name ?? `dataset-${Math.random().toString(36).slice(2, 8)}`,
        format: 'CSV',
        purpose: 'model training for tests',
        legalBasis: pii.length ? 'LEGITIMATE_INTERESTS' : 'NOT_APPLICABLE',
        containsPersonalData: pii.length > 0,
        piiColumns: pii,
      },
    },
    { token: actor.token, tenantId: actor.tenantId },
  );
  if (!created.data) throw new Error(`createDataset failed: ${JSON.stringify(created.errors)}`);
  const datasetId = created.data.createDataset.id;
  const response = await app.fetch(`/v1/datasets/${datasetId}/versions`, {
    method: 'POST',
    token: actor.token,
    tenantId: actor.tenantId,
    headers: { 'content-type': 'text/csv' },
    body: content,
  });
  const version = (await response.json()) as any;
  if (response.status !== 201) throw new Error(`upload failed: ${response.status} ${JSON.stringify(version)}`);
  return { datasetId, versionId: version.id, version };
}
