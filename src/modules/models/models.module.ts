import { Module } from '@nestjs/common';
import { DatasetVersionLineageResolver } from './lineage.resolver';
import { ModelRegistryService } from './model-registry.service';
import { ModelsResolver } from './models.resolver';
import { ModelsService } from './models.service';

@Module({ providers: [ModelsService, ModelsResolver, ModelRegistryService, DatasetVersionLineageResolver], exports: [ModelRegistryService] })
export class ModelsModule {}
