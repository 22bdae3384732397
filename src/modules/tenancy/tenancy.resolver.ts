import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Can } from '../../common/authz/decorators';
import { RoleEnum } from '../../common/graphql/enums';
import { PageArgs } from '../../common/graphql/page.args';
import { AddMemberInput, UpdateTenantInput } from './dto/tenancy.input';
import { MembersService } from './members.service';
import { MembershipConnection, MembershipModel } from './models/membership.model';
import { TenantModel } from './models/tenant.model';
import { TenantService } from './tenant.service';

@Resolver()
export class TenancyResolver {
  constructor(
    private readonly tenants: TenantService,
    private readonly memberships: MembersService,
  ) {}

  @Can('read', 'Tenant')
  @Query(() => TenantModel)
  tenant() {
    return this.tenants.current();
  }

  @Can('update', 'Tenant')
  @Mutation(() => TenantModel)
  updateTenant(@Args('input') input: UpdateTenantInput) {
    return this.tenants.update(input);
  }

  @Can('read', 'Member')
  @Query(() => MembershipConnection)
  members(@Args() { first, after }: PageArgs) {
    return this.memberships.list(first, after);
  }

  @Can('create', 'Member')
  @Mutation(() => MembershipModel)
  addMember(@Args('input') input: AddMemberInput) {
    return this.memberships.add(input);
  }

  @Can('update', 'Member')
  @Mutation(() => MembershipModel)
  updateMemberRole(@Args('membershipId', { type: () => ID }) membershipId: string, @Args('role', { type: () => RoleEnum }) role: RoleEnum) {
    return this.memberships.updateRole(membershipId, role);
  }

  @Can('delete', 'Member')
  @Mutation(() => Boolean)
  removeMember(@Args('membershipId', { type: () => ID }) membershipId: string) {
    return this.memberships.remove(membershipId);
  }
}
