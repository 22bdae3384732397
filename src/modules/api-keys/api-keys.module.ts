import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ApiKeysResolver } from './api-keys.resolver';
import { ApiKeysService } from './api-keys.service';

@Module({ imports: [AuditModule], providers: [ApiKeysService, ApiKeysResolver] })
export class ApiKeysModule {}
