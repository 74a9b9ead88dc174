/**
 * The record and notify activities under a real Temporal worker on the embedded server: a workflow sees
 * repeated completions as no-ops, branches on a refusal's failure type, and Temporal's retries carry a
 * notification through a temporary SMTP refusal to a single delivery.
 */
import { randomUUID } from 'node:crypto';
import { type AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { SMTPServer } from 'smtp-server';
import { silentLogger } from '../../log';
import { createNotificationTransport, createNotifyActivities } from '../../activities/notify';
import { createRecordActivities } from '../../activities/records';
import { startTemporalServer } from '../../temporal-server';
import { nextValidNhsNumber, seedSetting } from '../store/seed';
import { useMigratedStore } from '../store/store-fixture';
import { type RecordsProbeResult } from './workflows/records-probe.workflow';
import { installQuietRuntime } from '../support/sdk-runtime';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';

const db = useMigratedStore('under_temporal');
const taskQueue = 'records-probe';
let client: Client;
let smtpReceived = 0;
let smtpRefusals = 1;

beforeAll(async () => {
  installQuietRuntime();
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        if (smtpRefusals-- > 0) return callback(Object.assign(new Error('Try again later'), { responseCode: 451 }));
        smtpReceived++;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  db.onClose(() => new Promise<void>((resolve) => smtp.close(() => resolve())));

  const server = await startTemporalServer({ address: '127.0.0.1:0', databaseUrl: db.url, logger: silentLogger, searchAttributes: CASE_SEARCH_ATTRIBUTES });
  db.onClose(() => server.stop());
  const connection = await Connection.connect({ address: server.address });
  db.onClose(() => connection.close());
  client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  db.onClose(() => nativeConnection.close());

  const transport = createNotificationTransport({
    smtpUrl: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
    store: db.store,
    logger: silentLogger,
  });
  db.onClose(() => transport.close());
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('./workflows/records-probe.workflow'),
    activities: {
      ...createRecordActivities({ store: db.store, logger: silentLogger }),
      ...createNotifyActivities({ store: db.store, logger: silentLogger, transport, initialRetryDelayMs: 50 }),
    },
  });
  const running = worker.run();
  db.onClose(async () => {
    worker.shutdown();
    await running;
  });
}, 120_000);

it('runs a pathway-like sequence of record and notify activities through Temporal', async () => {
  // given a case, and an agency contact to notify
  const records = createRecordActivities({ store: db.store, logger: silentLogger });
  const { odsCode } = await seedSetting(db.store.fork());
  const caseId = randomUUID();
  const workflowId = `case-${caseId}`;
  const actor = { id: 'system:test', role: 'system' };
  await records.openCase({
    caseId,
    workflowId,
    nhsNumber: nextValidNhsNumber(),
    settingOdsCode: odsCode,
    pathwayId: 'release',
    pathwayVersion: 1,
    actor,
  });
  const knex = db.store.orm.em.getConnection().getKnex();
  const { patient_id: patientId } = await knex('cases')
    .where({ id: caseId })
    .first<{ patient_id: string }>('patient_id');
  const contactId = randomUUID();
  await records.addContact({
    contactId,
    patientId,
    kind: 'agency',
    name: 'Probation',
    relationship: 'probation practitioner',
    channel: 'email',
    email: 'pp@example.gov.uk',
    actor,
  });

  // when
  const result: RecordsProbeResult = await client.workflow.execute('recordsProbe', {
    taskQueue,
    workflowId,
    args: [{ caseId, workflowId, contactId }],
  });

  // then
  expect(result).toEqual({
    completions: [true, false],
    refusal: { type: 'INVALID_STATE', nonRetryable: true },
    delivery: { status: 'sent', alreadySent: false },
  });
  expect(smtpReceived).toBe(1);
  expect(
    await knex('notification_outbox')
      .where({ id: `${workflowId}/MissedAppointment/${contactId}` })
      .first('status', 'attempts'),
  ).toEqual({ status: 'sent', attempts: 2 });
}, 120_000);
