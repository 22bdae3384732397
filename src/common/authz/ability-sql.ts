import { rulesToCondition } from '@casl/ability/extra';
import { Action, AppAbility, SubjectName } from './ability.factory';

export interface SqlCondition {
  sql: string;
  params: Record<string, unknown>;
}

/**
 * Translates what `ability` allows for `action` on `subject` into a SQL predicate, so list and
 * lookup queries filter in the database and never in memory. Returns null when nothing is allowed.
 *
 * `columns` maps the condition fields used in ability.factory.ts to SQL column expressions.
 */
export function abilityToSql(
  ability: AppAbility,
  action: Action,
  subject: SubjectName,
  columns: Record<string, string>,
): SqlCondition | null {
  const params: Record<string, unknown> = {};
  let counter = 0;
  const bind = (value: unknown) => {
    const name = `casl_${counter++}`;
    params[name] = value;
    return `:${name}`;
  };

  const translate = (conditions: Record<string, unknown>): string => {
    const parts = Object.entries(conditions).map(([field, expected]) => {
      const column = columns[field];
      if (!column) throw new Error(`abilityToSql: no column mapping for condition field "${field}" of ${subject}`);
      if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
        const [[operator, operand]] = Object.entries(expected as Record<string, unknown>);
        if (operator === '$in') return `${column} IN (:...${bind(operand).slice(1)})`;
        if (operator === '$ne') return `${column} IS DISTINCT FROM ${bind(operand)}`;
        if (operator === '$eq') return `${column} = ${bind(operand)}`;
        throw new Error(`abilityToSql: unsupported operator ${operator}`);
      }
      return `${column} = ${bind(expected)}`;
    });
    return parts.length ? `(${parts.join(' AND ')})` : 'TRUE';
  };

  const result = rulesToCondition(
    ability.rulesFor(action, subject),
    (rule) => {
      const predicate = rule.conditions ? translate(rule.conditions as Record<string, unknown>) : 'TRUE';
      return rule.inverted ? `NOT ${predicate}` : predicate;
    },
    {
      and: (conditions: string[]) => (conditions.length ? `(${conditions.join(' AND ')})` : 'TRUE'),
      or: (conditions: string[]) => `(${conditions.join(' OR ')})`,
      empty: () => 'TRUE',
    },
  );
  return result === null ? null : { sql: result, params };
}
