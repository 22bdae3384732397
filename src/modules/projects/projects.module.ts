import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ProjectsResolver } from './projects.resolver';
import { ProjectsService } from './projects.service';

@Module({ imports: [AuditModule], providers: [ProjectsService, ProjectsResolver] })
export class ProjectsModule {}
