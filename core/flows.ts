import { z } from 'zod';
import { checkCondition, checkMapping, evaluateCondition } from './templating.ts';
import type { HubEvent } from './events.ts';
import { SCHEDULE_EVENT, scheduleParamIssues } from './triggers/schedule-spec.ts';

const slug = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, - and _ (at most 64), starting with a letter or digit');

export const flowStepSchema = z
  .object({
    name: z.string().optional(),
    action: z.string().min(1),
    connection: z.string().optional(),
    input: z.record(z.string(), z.unknown()).default({}),
    /** Link what this step made (e.g. the card) to another thing: `{ kind: dingtalk.conversation, id: "{{ data.conversation.id }}" }`. */
    link: z.object({ kind: z.string().min(1), id: z.string().min(1) }).optional(),
  })
  .superRefine((step, ctx) => {
    const bad = checkMapping(step.input);
    if (bad) ctx.addIssue({ code: 'custom', path: ['input', ...bad.path], message: `template does not parse: ${bad.message}` });
  });

export const flowSchema = z.object({
  id: slug,
  name: z.string().optional(),
  enabled: z.boolean().default(true),
  when: z
    .object({
      /** An event type, or a pattern with `*` (e.g. `trello.card.*`). */
      event: z.string().min(1),
      /** Only events from this source (a catch hook id, a connection id). */
      source: z.string().optional(),
      /**
       * Trigger parameters, e.g. `{ board: "<board id>" }` for Trello: they say what the trigger must
       * subscribe to, and only events whose `data.<key>` (or `data.<key>.id`) equals the value match.
       */
      params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
      /** A Liquid expression; the flow runs only when it is true. */
      condition: z.string().optional(),
    })
    .superRefine((when, ctx) => {
      if (when.event === SCHEDULE_EVENT) {
        for (const issue of scheduleParamIssues(when.params))
          ctx.addIssue({
            code: 'custom',
            path: when.params && issue.param in when.params ? ['params', issue.param] : ['params'],
            message: issue.message,
          });
      }
      if (!when.condition) return;
      try {
        checkCondition(when.condition);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['condition'], message: `condition does not parse: ${(err as Error).message}` });
      }
    }),
  then: z.array(flowStepSchema).min(1, 'a flow needs at least one step'),
});

export type Flow = z.output<typeof flowSchema>;

/** A flow param that sets the poll interval of its polling trigger (e.g. `30s`); never matched against event data. */
export const POLL_INTERVAL_PARAM = 'pollInterval';
export type FlowStep = Flow['then'][number];

export function eventTypeMatches(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) return pattern === type;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(type);
}

/** What templates see: the event's fields at the top (`data`, `type`, `subject`, …) and earlier steps' outputs. */
export function templateScope(event: HubEvent, stepOutputs: unknown[] = [], linked: Record<string, string> = {}): Record<string, unknown> {
  return {
    id: event.id,
    type: event.type,
    source: event.source,
    connectionId: event.connectionId,
    occurredAt: event.occurredAt,
    subject: event.subject,
    data: event.data,
    event: { id: event.id, type: event.type, source: event.source, occurredAt: event.occurredAt, subject: event.subject },
    steps: stepOutputs.map((output) => ({ output })),
    /** Things linked to what the event is about, by kind: `linked["dingtalk.conversation"]`. */
    linked,
  };
}

/**
 * A trigger whose params have defaults (a schedule's timezone and catchUp) registers how to complete
 * them, so a flow that leaves one out matches the events of the default, not of every value.
 */
const paramNormalisers = new Map<string, (params: Record<string, string>) => Record<string, string>>();
export function registerParamNormaliser(eventType: string, fn: (params: Record<string, string>) => Record<string, string>): void {
  paramNormalisers.set(eventType, fn);
}

function matchParams(flow: Flow): Record<string, string> {
  const params = flow.when.params ?? {};
  const normalise = paramNormalisers.get(flow.when.event);
  if (!normalise) return params;
  try {
    return normalise(params);
  } catch {
    return params;
  }
}

export async function flowMatches(flow: Flow, event: HubEvent, linked: Record<string, string> = {}): Promise<boolean> {
  if (!flow.enabled) return false;
  if (!eventTypeMatches(flow.when.event, event.type)) return false;
  if (flow.when.source && flow.when.source !== event.source) return false;
  for (const [key, want] of Object.entries(matchParams(flow))) {
    if (key === POLL_INTERVAL_PARAM) continue; // how often to poll, not a filter
    const got = event.data[key];
    const value = got && typeof got === 'object' ? (got as { id?: unknown }).id : got;
    if (String(value ?? '') !== want) return false;
  }
  if (flow.when.condition) return evaluateCondition(flow.when.condition, templateScope(event, [], linked));
  return true;
}
