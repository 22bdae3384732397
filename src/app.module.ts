import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { BullModule } from '@nestjs/bull';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { LoggerModule } from 'nestjs-pino';
import type { DataSource } from 'typeorm';
import { AuthorizationGuard } from './common/authz/authorization.guard';
import { RestExceptionFilter } from './common/errors/http-exception.filter';
import { graphqlOptions } from './common/graphql/graphql-options';
import { InfrastructureModule } from './common/infrastructure/infrastructure.module';
import { DATA_SOURCE } from './common/infrastructure/tokens';
import { loggerOptions } from './common/logging/logger-options';
import type { RuntimeConfig } from './config/runtime-config';
import { ApiKeysModule } from './modules/api-keys/api-keys.module';
import { AuditModule } from './modules/audit/audit.module';
import { AuditService } from './modules/audit/audit.service';
import { BillingModule } from './modules/billing/billing.module';
import { DatasetsModule } from './modules/datasets/datasets.module';
import { MaintenanceModule } from './modules/maintenance/maintenance.module';
import { StorageModule } from './modules/storage/storage.module';
import { HealthModule } from './modules/health/health.module';
import { MetricsService } from './modules/health/metrics.service';
import { EndpointsModule } from './modules/endpoints/endpoints.module';
import { FineTuningModule } from './modules/fine-tuning/fine-tuning.module';
import { AuthenticationService } from './modules/iam/authentication.service';
import { IamModule } from './modules/iam/iam.module';
import { ModelsModule } from './modules/models/models.module';
import { ProjectsModule } from './modules/projects/projects.module';
import { TenancyModule } from './modules/tenancy/tenancy.module';

export interface AppModuleOptions {
  /** Writes schema.gql at the repo root (development); production builds the schema in memory. */
  emitSchema: boolean;
}

@Module({})
export class AppModule {
  static forRoot(config: RuntimeConfig, options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot(loggerOptions(config)),
        InfrastructureModule.forRoot(config),
        HealthModule,
        GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          imports: [AuditModule, HealthModule, IamModule],
          inject: [DATA_SOURCE, AuditService, MetricsService, AuthenticationService],
          useFactory: (dataSource: DataSource, audit: AuditService, metrics: MetricsService, authentication: AuthenticationService) =>
            graphqlOptions(config, dataSource, () => audit.flushPending(), [metrics.graphqlPlugin()], options.emitSchema, authentication),
        }),
        AuditModule,
        IamModule,
        TenancyModule,
        ApiKeysModule,
        ProjectsModule,
        BullModule.forRoot({ redis: config.redisUrl, prefix: `${config.redisPrefix}:bull` }),
        BillingModule,
        StorageModule,
        DatasetsModule,
        ModelsModule,
        FineTuningModule,
        EndpointsModule,
        MaintenanceModule,
      ],
      providers: [
        { provide: APP_GUARD, useClass: AuthorizationGuard },
        { provide: APP_FILTER, useClass: RestExceptionFilter },
      ],
    };
  }
}
