import { z } from 'zod';
import { describeCatalog, faultCatalog, type FaultContext, type FaultDefinition } from './catalog.ts';

export class UnknownFaultError extends Error {
  constructor(name: string, known: string[]) {
    super(`unknown fault "${name}" (known: ${known.join(', ')})`);
    this.name = 'UnknownFaultError';
  }
}

export class InvalidFaultParamsError extends Error {
  constructor(name: string, issues: string) {
    super(`invalid parameters for fault "${name}": ${issues}`);
    this.name = 'InvalidFaultParamsError';
  }
}

/** A known fault with valid parameters that this platform cannot produce (a TLS fault without TLS). */
export class FaultUnavailableError extends Error {
  constructor(name: string, requirement: string) {
    super(
      requirement === 'tls'
        ? `fault "${name}" needs HTTPS/WSS: start the platform with --profile staging (or --tls); this one serves plain HTTP`
        : `fault "${name}" needs ${requirement}, which this platform does not have`,
    );
    this.name = 'FaultUnavailableError';
  }
}

/** Throws FaultUnavailableError when `name` needs something the platform lacks. */
export function checkFaultAvailable(name: string, available: { tls: boolean }, catalog: readonly FaultDefinition[] = faultCatalog): void {
  const definition = catalog.find((fault) => fault.name === name);
  if (definition?.requires === 'tls' && !available.tls) throw new FaultUnavailableError(name, 'tls');
}

export interface ActiveFault {
  name: string;
  params: Record<string, unknown>;
  since: string;
}

/** Checks a fault request against the catalog without needing a running platform. */
export function validateFault(name: string, params: unknown, catalog: readonly FaultDefinition[] = faultCatalog): Record<string, unknown> {
  const definition = catalog.find((fault) => fault.name === name);
  if (!definition) throw new UnknownFaultError(name, catalog.map((fault) => fault.name));
  const parsed = definition.params.safeParse(params ?? {});
  if (!parsed.success) throw new InvalidFaultParamsError(name, z.prettifyError(parsed.error).replace(/\n/g, '; '));
  return parsed.data;
}

/** The live set of active faults. Changes are serialised so concurrent admin calls cannot interleave hooks. */
export class FaultSwitch {
  private readonly active = new Map<string, ActiveFault>();
  private readonly context: FaultContext;
  private readonly catalog: readonly FaultDefinition[];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(context: FaultContext, catalog: readonly FaultDefinition[] = faultCatalog) {
    this.context = context;
    this.catalog = catalog;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private definition(name: string): FaultDefinition {
    const found = this.catalog.find((fault) => fault.name === name);
    if (!found) throw new UnknownFaultError(name, this.catalog.map((fault) => fault.name));
    return found;
  }

  validate(name: string, params: unknown): Record<string, unknown> {
    return validateFault(name, params, this.catalog);
  }

  /** Activates (or re-parameterises) a fault. */
  set(name: string, params: unknown = {}): Promise<ActiveFault> {
    return this.serial(async () => {
      const definition = this.definition(name);
      const valid = this.validate(name, params);
      checkFaultAvailable(name, { tls: Boolean(this.context.tls) }, this.catalog);
      if (this.active.has(name)) await definition.clear(this.context);
      await definition.apply(this.context, valid);
      const entry = { name, params: valid, since: new Date().toISOString() };
      this.active.set(name, entry);
      return entry;
    });
  }

  /** Deactivates a fault; false when it was not active. */
  clear(name: string): Promise<boolean> {
    return this.serial(async () => {
      const definition = this.definition(name);
      if (!this.active.has(name)) return false;
      await definition.clear(this.context);
      this.active.delete(name);
      return true;
    });
  }

  clearAll(): Promise<string[]> {
    return this.serial(async () => {
      const names = [...this.active.keys()];
      for (const name of names) {
        await this.definition(name).clear(this.context);
        this.active.delete(name);
      }
      return names;
    });
  }

  isActive(name: string): boolean {
    return this.active.has(name);
  }

  activeFaults(): ActiveFault[] {
    return [...this.active.values()];
  }

  describe(): { active: ActiveFault[]; catalog: ReturnType<typeof describeCatalog> } {
    return { active: this.activeFaults(), catalog: describeCatalog(this.catalog) };
  }
}
