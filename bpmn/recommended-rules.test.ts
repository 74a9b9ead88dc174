import recommended from 'bpmnlint/config/recommended';
import { RECOMMENDED_RULE_FACTORIES } from './recommended-rules';

describe('bpmnlint recommended rules, imported by name', () => {
  it('are exactly the rules bpmnlint recommends, each a rule factory', () => {
    expect(Object.keys(RECOMMENDED_RULE_FACTORIES).sort()).toEqual(Object.keys(recommended.rules).sort());
    for (const factory of Object.values(RECOMMENDED_RULE_FACTORIES)) expect(typeof factory).toBe('function');
  });
});
