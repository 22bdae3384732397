/** Background work of the api itself (not GPU work): key re-wraps and retention sweeps. */
export const MAINTENANCE_QUEUE = 'maintenance';

export interface RewrapJob {
  tenantId: string;
  generation: number;
}
