import type { ActionDefinition, ConnectorDefinition, TriggerDefinition } from './connector.ts';

/** The connectors this hub knows. core/ never names one: the entry point hands the list in. */
export class ConnectorRegistry {
  private readonly connectors = new Map<string, ConnectorDefinition>();
  private readonly actions = new Map<string, ActionDefinition>();

  constructor(list: ConnectorDefinition[]) {
    for (const c of list) {
      if (this.connectors.has(c.id)) throw new Error(`connector ${c.id} is registered twice`);
      this.connectors.set(c.id, c);
      for (const a of c.actions) this.actions.set(a.id, a);
    }
  }

  list(): ConnectorDefinition[] { return [...this.connectors.values()]; }
  connector(id: string): ConnectorDefinition | undefined { return this.connectors.get(id); }
  action(id: string): ActionDefinition | undefined { return this.actions.get(id); }
  actionIds(): string[] { return [...this.actions.keys()]; }
  triggers(): TriggerDefinition[] { return this.list().flatMap((c) => c.triggers); }
  eventTypes(): string[] { return [...new Set(this.triggers().flatMap((t) => t.events))]; }
}
