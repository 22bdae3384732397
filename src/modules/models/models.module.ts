import { Module } from '@nestjs/common';
import { ModelRegistryService } from './model-registry.service';
import { ModelsResolver } from './models.resolver';
import { ModelsService } from './models.service';

@Module({ providers: [ModelsService, ModelsResolver, ModelRegistryService], exports: [ModelRegistryService] })
export class ModelsModule {}
