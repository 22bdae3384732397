import type { GpuPool } from '../../config/config';
import { regionAllowed } from '../storage/residency';

export type Placement = { pool: GpuPool } | { reason: string };

/**
 * Picks the pool for a tenant's job: in a region its residency allows, dedicated to it if it has
 * dedicated pools (otherwise shared), and of the requested GPU class.
 */
export function placeJob(pools: GpuPool[], tenant: { id: string; dataResidency: string }, gpuClass: string | null | undefined): Placement {
  const resident = pools.filter((p) => regionAllowed(tenant.dataResidency, p.region));
  if (resident.length === 0) return { reason: `no GPU pool is in a region allowed by the tenant's data residency (${tenant.dataResidency})` };
  const dedicated = resident.filter((p) => p.dedicatedTenantId === tenant.id);
  const candidates = dedicated.length ? dedicated : resident.filter((p) => p.dedicatedTenantId === null);
  if (candidates.length === 0) return { reason: 'no shared GPU pool is available to this tenant' };
  if (!gpuClass) return { pool: candidates[0] };
  const matching = candidates.find((p) => p.gpuClass.toLowerCase() === gpuClass.toLowerCase());
  if (!matching) {
    const offered = [...new Set(candidates.map((p) => p.gpuClass))].join(', ');
    return { reason: `no GPU pool available to this tenant offers gpuClass ${gpuClass} (available: ${offered})` };
  }
  return { pool: matching };
}
