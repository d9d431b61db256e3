export { startFake, type FakeDefinition, type RunningFake, type RunningFakeInternals, type FakeContext } from './fake.ts';
export { FaultPlan, type FaultSpec, type FaultSpecInput } from './faults.ts';
export { CallLog, type CallRecord } from './call-log.ts';
export { selfSignedCertificate } from './tls.ts';
