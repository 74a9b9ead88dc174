/**
 * The GOV.UK Notify transport against a local HTTP server that answers as the Notify API does: the request
 * it sends (template, reference, personalisation, signed token) and how it reads Notify's answers.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { silentLogger } from '../../log';
import { createNotifyTransport, DEFAULT_TEMPLATES, type OutboundMessage } from '../../activities/notify';
import { DeliveryError } from '../../activities/errors';

interface Request {
  path: string;
  authorization: string;
  body: Record<string, unknown>;
}

const serviceId = randomUUID();
const apiKey = `throughcare_test-${serviceId}-${randomUUID()}`;
const templateId = randomUUID();
const requests: Request[] = [];
const statuses: number[] = [];
let server: http.Server;
let baseUrl: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString()));
    req.on('end', () => {
      requests.push({
        path: req.url ?? '',
        authorization: req.headers.authorization ?? '',
        body: JSON.parse(data) as Record<string, unknown>,
      });
      const status = statuses.shift() ?? 201;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          status === 201
            ? { id: 'notify-ref-1', reference: 'r', content: {}, uri: '', template: { id: templateId } }
            : {
                status_code: status,
                errors: [{ error: 'BadRequestError', message: 'Can not send to this recipient' }],
              },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  requests.length = 0;
});

const templates = {
  ...DEFAULT_TEMPLATES,
  'missed-appointment': { ...DEFAULT_TEMPLATES['missed-appointment']!, notifyTemplateId: templateId },
};

function message(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    notificationId: 'case-1/MissedAppointment/c-1',
    channel: 'email',
    template: 'missed-appointment',
    personalisation: { service: 'Forward Leeds' },
    recipient: { name: 'Probation', email: 'pp@example.gov.uk', phone: '07700900123', address: null },
    ...overrides,
  };
}

function transport() {
  return createNotifyTransport({ apiKey, baseUrl, templates, logger: silentLogger });
}

it('sends an email with the Notify template id, the outbox id as reference and a token signed for the service', async () => {
  const result = await transport().send(message());

  expect(result).toEqual({ providerReference: 'notify-ref-1' });
  expect(requests).toHaveLength(1);
  expect(requests[0]).toMatchObject({
    path: '/v2/notifications/email',
    body: {
      template_id: templateId,
      email_address: 'pp@example.gov.uk',
      reference: 'case-1/MissedAppointment/c-1',
      personalisation: { service: 'Forward Leeds' },
    },
  });
  const token = requests[0]!.authorization.replace(/^Bearer /, '');
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iss: string };
  expect(claims.iss).toBe(serviceId);
});

it('sends a text message to the phone number', async () => {
  await transport().send(message({ channel: 'sms' }));
  expect(requests[0]).toMatchObject({ path: '/v2/notifications/sms', body: { phone_number: '07700900123' } });
});

it('puts the recipient and address into the letter address lines', async () => {
  await transport().send(
    message({
      channel: 'letter',
      recipient: {
        name: 'A Relative',
        email: null,
        phone: null,
        address: { lines: ['1 High St', 'Leeds'], postcode: 'LS1 1AA' },
      },
    }),
  );
  expect(requests[0]).toMatchObject({
    path: '/v2/notifications/letter',
    body: {
      personalisation: {
        service: 'Forward Leeds',
        address_line_1: 'A Relative',
        address_line_2: '1 High St',
        address_line_3: 'Leeds',
        address_line_4: 'LS1 1AA',
      },
    },
  });
});

it('treats a 5xx or 429 answer as worth retrying and a 400 as final', async () => {
  statuses.push(503, 429, 400);
  const outcomes: DeliveryError[] = [];
  for (let i = 0; i < 3; i++) {
    try {
      await transport().send(message());
    } catch (error) {
      if (error instanceof DeliveryError) outcomes.push(error);
    }
  }
  expect(outcomes.map((e) => [e.code, e.retryable])).toEqual([
    ['DELIVERY_FAILED', true],
    ['DELIVERY_FAILED', true],
    ['DELIVERY_REJECTED', false],
  ]);
});

it('refuses, without calling Notify, a template that has no Notify template id', async () => {
  await expect(transport().send(message({ template: 'release-notice' }))).rejects.toMatchObject({
    code: 'DELIVERY_REJECTED',
    retryable: false,
  });
  expect(requests).toHaveLength(0);
});
