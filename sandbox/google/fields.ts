/**
 * The `fields` partial-response selector: `nextPageToken,files(id,name,parents)`, `files/name`, `*`.
 * Returns the object reduced to the selected fields.
 */
export type FieldTree = Map<string, FieldTree | true>;

export function parseFields(spec: string): FieldTree {
  let i = 0;
  const parseList = (): FieldTree => {
    const tree: FieldTree = new Map();
    while (i < spec.length) {
      while (spec[i] === ' ' || spec[i] === ',') i++;
      if (spec[i] === ')' || i >= spec.length) break;
      let name = '';
      while (i < spec.length && !',()'.includes(spec[i]!)) name += spec[i++];
      name = name.trim();
      const path = name.split('/');
      let sub: FieldTree | true = true;
      if (spec[i] === '(') {
        i++;
        sub = parseList();
        i++;
      }
      let node = tree;
      for (let k = 0; k < path.length - 1; k++) {
        const next = node.get(path[k]!);
        const m: FieldTree = next instanceof Map ? next : new Map();
        node.set(path[k]!, m);
        node = m;
      }
      node.set(path.at(-1)!, sub);
    }
    return tree;
  };
  return parseList();
}

export function select(value: unknown, tree: FieldTree | true): unknown {
  if (tree === true || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => select(v, tree));
  if (tree.has('*')) return value;
  const out: Record<string, unknown> = {};
  for (const [k, sub] of tree) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = select(v, sub);
  }
  return out;
}
