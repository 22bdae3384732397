import { Injectable } from '@nestjs/common';
import { getRepository } from '../../common/request-context/request-context';
import { ModelVersionEntity } from '../models/model.entities';
import { DriftMonitorService } from './drift-monitor.service';
import { EndpointEntity } from './endpoint.entities';
import { DriftModel } from './models/endpoint.model';

/** `endpoint.drift`: the current window against the deployed version's baseline. */
@Injectable()
export class EndpointDriftService {
  constructor(private readonly monitor: DriftMonitorService) {}

  async forEndpoint(endpointId: string): Promise<DriftModel> {
    const endpoint = await getRepository(EndpointEntity).findOneByOrFail({ id: endpointId });
    const version = await getRepository(ModelVersionEntity).findOneByOrFail({ id: endpoint.modelVersionId });
    return this.monitor.report(endpoint, version.driftBaseline);
  }
}
