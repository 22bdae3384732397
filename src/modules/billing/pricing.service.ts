import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { APP_CONFIG } from '../../common/infrastructure/tokens';
import type { PriceBookEntry, RuntimeConfig } from '../../config/runtime-config';
import type { Meter } from '../metering/usage-event.entity';

export interface Price {
  meter: Meter;
  gpuClass: string;
  unitPriceMicro: number;
  effectiveFrom: Date;
  source: 'default' | 'override';
}

export const UNITS: Record<Meter, string> = { GPU_SECONDS: 'second', CPU_SECONDS: 'second', PREDICTIONS: 'prediction', STORAGE_GB_HOURS: 'GB-hour' };

/**
 * The rate in force at a given instant: the tenant's override if one applies, else the default
 * price book; a GPU-class price before the class-less one. Prices only take effect in the future,
 * so a ledger line's price, fixed when it is written, never changes.
 */
@Injectable()
export class PricingService {
  constructor(@Inject(APP_CONFIG) private readonly config: RuntimeConfig) {}

  async priceAt(manager: EntityManager, tenantId: string, meter: Meter, gpuClass: string | null, at: Date): Promise<Price> {
    const overrides: { gpu_class: string; unit_price_micro: string; effective_from: Date }[] = await manager.query(
      `SELECT gpu_class, unit_price_micro, effective_from FROM price_overrides
        WHERE tenant_id = $1 AND meter = $2 AND gpu_class IN ($3, '') AND effective_from <= $4
        ORDER BY (gpu_class = $3) DESC, effective_from DESC LIMIT 1`,
      [tenantId, meter, gpuClass ?? '', at],
    );
    if (overrides.length) {
      const [o] = overrides;
      return { meter, gpuClass: o.gpu_class, unitPriceMicro: Number(o.unit_price_micro), effectiveFrom: o.effective_from, source: 'override' };
    }
    const entry = this.defaultAt(meter, gpuClass ?? '', at);
    return { meter, gpuClass: entry.gpuClass, unitPriceMicro: entry.unitPriceMicroEur, effectiveFrom: entry.effectiveFrom, source: 'default' };
  }

  /** The price list as a tenant sees it now: defaults, with its overrides applied. */
  async currentList(manager: EntityManager, tenantId: string): Promise<Price[]> {
    const now = new Date();
    const keys = new Map<string, { meter: Meter; gpuClass: string }>();
    for (const entry of this.config.priceBook) keys.set(`${entry.meter}/${entry.gpuClass}`, { meter: entry.meter, gpuClass: entry.gpuClass });
    const overrides: { meter: Meter; gpu_class: string }[] = await manager.query(`SELECT DISTINCT meter, gpu_class FROM price_overrides WHERE tenant_id = $1`, [tenantId]);
    for (const o of overrides) keys.set(`${o.meter}/${o.gpu_class}`, { meter: o.meter, gpuClass: o.gpu_class });
    const prices: Price[] = [];
    for (const k of keys.values()) prices.push(await this.priceAt(manager, tenantId, k.meter, k.gpuClass || null, now));
    return prices
      .map((p, i) => ({ ...p, gpuClass: [...keys.values()][i].gpuClass }))
      .sort((a, b) => a.meter.localeCompare(b.meter) || a.gpuClass.localeCompare(b.gpuClass));
  }

  private defaultAt(meter: Meter, gpuClass: string, at: Date): PriceBookEntry {
    const candidates = this.config.priceBook
      .filter((p) => p.meter === meter && (p.gpuClass.toUpperCase() === gpuClass.toUpperCase() || p.gpuClass === '') && p.effectiveFrom <= at)
      .sort((a, b) => Number(b.gpuClass !== '') - Number(a.gpuClass !== '') || b.effectiveFrom.getTime() - a.effectiveFrom.getTime());
    if (!candidates.length) throw new Error(`no price for ${meter}${gpuClass ? `/${gpuClass}` : ''} in PRICE_BOOK`);
    return candidates[0];
  }
}
