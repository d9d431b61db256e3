import type { ActionDefinition, ConnectorDefinition, TriggerDefinition } from './connector.ts';

/** The connectors this hub knows. core/ never names one: the entry point hands the list in. */
export class ConnectorRegistry {
  private readonly connectors = new Map<string, ConnectorDefinition>();
  private readonly actions = new Map<string, ActionDefinition>();

  constructor(list: ConnectorDefinition[]) {
    for (const c of list) {
      if (this.connectors.has(c.id)) throw new Error(`connector ${c.id} is registered twice`);
      this.connectors.set(c.id, c);
      for (const a of c.actions) {
        const other = this.actions.get(a.id) ? this.owner(a.id) : undefined;
        if (other) throw new Error(`action ${a.id} is declared twice (by connector ${other} and by ${c.id})`);
        this.actions.set(a.id, a);
      }
      const seen = new Set(
        this.triggers()
          .filter((t) => !c.triggers.includes(t))
          .map((t) => t.id),
      );
      for (const t of c.triggers) {
        if (seen.has(t.id)) throw new Error(`trigger ${t.id} is declared twice (connector ${c.id})`);
        seen.add(t.id);
      }
    }
  }

  /** The connector that declares an action. */
  owner(actionId: string): string | undefined {
    return this.list().find((c) => c.actions.some((a) => a.id === actionId))?.id;
  }

  /**
   * Whether a step with this action must name a connection, and of which connectors: the action's
   * `needsConnection`, else "yes, of its own connector" when the connector has credentials.
   */
  connectionNeed(actionId: string): { required: boolean; connectors: string[] } {
    const action = this.action(actionId);
    const owner = this.owner(actionId);
    if (!action || !owner) return { required: false, connectors: [] };
    const need = action.needsConnection;
    if (Array.isArray(need)) return { required: true, connectors: need };
    if (need === false) return { required: false, connectors: [] };
    const kind = this.connectors.get(owner)!.auth.kind;
    const required = need === true || kind !== 'none';
    return { required, connectors: required ? [owner] : [] };
  }

  list(): ConnectorDefinition[] {
    return [...this.connectors.values()];
  }
  connector(id: string): ConnectorDefinition | undefined {
    return this.connectors.get(id);
  }
  action(id: string): ActionDefinition | undefined {
    return this.actions.get(id);
  }
  actionIds(): string[] {
    return [...this.actions.keys()];
  }
  triggers(): TriggerDefinition[] {
    return this.list().flatMap((c) => c.triggers);
  }
  eventTypes(): string[] {
    return [...new Set(this.triggers().flatMap((t) => t.events))];
  }
}
