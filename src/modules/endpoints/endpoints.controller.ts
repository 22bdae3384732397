import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Can } from '../../common/authz/decorators';
import { DATA_SOURCE } from '../../common/infrastructure/tokens';
import { inTenantTransaction } from '../../database/tenant-transaction';
import { PredictionService } from './prediction.service';

/** REST twin of `predict` for customer portals: `POST /v1/endpoints/{id}/predict {"inputs":[...]}`. */
@Controller('v1/endpoints')
export class EndpointsController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly predictions: PredictionService,
  ) {}

  @Can('predict', 'Endpoint')
  @Post(':endpointId/predict')
  @HttpCode(200)
  predict(@Param('endpointId') endpointId: string, @Body() body: { inputs?: unknown }) {
    return inTenantTransaction(this.dataSource, () => this.predictions.predict(endpointId, body?.inputs));
  }
}
