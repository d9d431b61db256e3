/** BullMQ job ids are derived from stored state, so re-adding the same work is a no-op while the job exists. */
export const eventJobId = (eventId: string) => eventId;
/** One job id per attempt of a step: `<stepRunId>.a<attempt>`. */
export const stepJobId = (stepRunId: string, attempt: number) => `${stepRunId}.a${attempt}`;
/** The idempotency key of a step: event id + flow id + step index. */
export const stepRunId = (eventId: string, flowId: string, stepIndex: number) => `${eventId}.${flowId}.${stepIndex}`;
