import { timed, type Sql } from './database.ts';

export interface Fact {
  subject: string;
  relation: string;
  object: string;
}

export async function lookupFact(sql: Sql, subject: string, relation: string): Promise<Fact | undefined> {
  const rows = await timed(
    'lookup fact',
    () => sql<Fact[]>`SELECT subject, relation, object FROM facts WHERE lower(subject) = lower(${subject}) AND relation = ${relation}`,
  );
  return rows[0];
}
