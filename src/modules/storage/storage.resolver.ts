import { Mutation, Resolver } from '@nestjs/graphql';
import { Can } from '../../common/authz/decorators';
import { KeyRotationService } from './key-rotation.service';
import { KeyRotationModel } from './models/key-rotation.model';

@Resolver()
export class StorageResolver {
  constructor(private readonly rotation: KeyRotationService) {}

  @Can('rotateKey', 'Tenant')
  @Mutation(() => KeyRotationModel)
  rotateTenantKey() {
    return this.rotation.rotate();
  }
}
