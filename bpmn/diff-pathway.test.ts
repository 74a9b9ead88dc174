import fs from 'node:fs';
import path from 'node:path';
import { diffPathways } from './diff-pathway';

const SMS = fs.readFileSync(path.join(__dirname, '..', 'pathways', 'sms-prison.bpmn'), 'utf8');

describe('diffPathways', () => {
  it('finds nothing between a version and itself', async () => {
    expect(await diffPathways(SMS, SMS)).toEqual({ added: [], removed: [], changed: [], layoutChanged: [] });
  });

  it('names a renamed element and the property that changed', async () => {
    const renamed = SMS.replace(
      'name="Reception health screen (first stage, before cell allocation)"',
      'name="Reception screen"',
    );
    const { changed } = await diffPathways(SMS, renamed);
    expect(changed).toEqual([
      { id: 'ReceptionScreening', type: 'UserTask', name: 'Reception screen', properties: ['name'] },
    ]);
  });

  it('counts a changed form as a change of its user task', async () => {
    const otherForm = SMS.replace('formId="prison-reception-sms"', 'formId="sms-referral"');
    const { changed } = await diffPathways(SMS, otherForm);
    expect(changed.map((change) => [change.id, change.properties])).toEqual([
      ['ReceptionScreening', ['extensionElements']],
    ]);
  });

  it('lists added and removed elements by id, type and name', async () => {
    const withExtra = SMS.replace('</bpmn:process>', '<bpmn:endEvent id="ExtraEnd" name="Extra end" /></bpmn:process>');
    const extra = { id: 'ExtraEnd', type: 'EndEvent', name: 'Extra end' };
    expect((await diffPathways(SMS, withExtra)).added).toEqual([extra]);
    expect((await diffPathways(withExtra, SMS)).removed).toEqual([extra]);
  });
});
