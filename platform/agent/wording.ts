/**
 * How the LLM-style agent words things: the same facts in different sentences from run to run.
 * Each topic rotates through its phrasings (from a random start), so two runs in a row on the
 * same topic never share a sentence; the facts (numbers, names, the quoted question) never change.
 */
import { randomInt } from 'node:crypto';

export interface Answer {
  /** The sentence(s) sent as the answer over the WebSocket. */
  text: string;
  /** The facts the text carries; the stored (markdown) form emphasises them. */
  facts: string[];
}

export class Phrasebook {
  private readonly next = new Map<string, number>();

  pick<T>(topic: string, options: readonly T[]): T {
    const at = this.next.get(topic) ?? randomInt(options.length);
    this.next.set(topic, at + 1);
    return options[at % options.length] as T;
  }
}

type Phrase<A extends unknown[]> = (...args: A) => string;

const ARITHMETIC: ReadonlyArray<Phrase<[string, string]>> = [
  (e, r) => `${e} equals ${r}.`,
  (e, r) => `The result of ${e} is ${r}.`,
  (e, r) => `If you work out ${e}, you get ${r}.`,
  (e, r) => `Sure! ${e} comes to ${r}.`,
  (e, r) => `That's ${r}: I computed ${e} with the calculator.`,
];

// Never a number after "=", never "infinity": a division by zero has no result to present.
const DIVISION_BY_ZERO: ReadonlyArray<Phrase<[string]>> = [
  (e) => `I can't give a number for ${e}: division by zero is undefined.`,
  (e) => `Dividing by zero is not defined, so ${e} has no numeric result.`,
  (e) => `There's no answer for ${e}, because you cannot divide by zero.`,
];

const NOT_COMPUTABLE: ReadonlyArray<Phrase<[string, string]>> = [
  (e, why) => `I couldn't evaluate ${e} (${why}).`,
  (e, why) => `Evaluating ${e} failed: ${why}.`,
];

const CAPITAL: ReadonlyArray<Phrase<[string, string]>> = [
  (country, city) => `The capital of ${country} is ${city}.`,
  (country, city) => `${city} is the capital city of ${country}.`,
  (country, city) => `${country}'s capital is ${city}.`,
  (country, city) => `That would be ${city}, the capital of ${country}.`,
  (country, city) => `According to my knowledge base, ${city} is the capital of ${country}.`,
];

const CAPITAL_UNKNOWN: ReadonlyArray<Phrase<[string]>> = [
  (country) => `I couldn't find the capital of ${country} in my knowledge base.`,
  (country) => `My knowledge base has no entry for the capital of ${country}, so I can't say.`,
];

const PREVIOUS: ReadonlyArray<Phrase<[string]>> = [
  (question) => `Your previous question was: "${question}"`,
  (question) => `Earlier you asked "${question}".`,
  (question) => `Before this, you asked me: "${question}"`,
  (question) => `You last asked "${question}".`,
];

const FIRST_QUESTION: ReadonlyArray<string> = [
  'This is the first question in our conversation, so there is no earlier one.',
  "You haven't asked anything before this in this conversation.",
];

const UNKNOWN: ReadonlyArray<Phrase<[string]>> = [
  (text) => `I'm not sure how to answer "${text}". I can do arithmetic, name the capital of a country, and recall your earlier questions.`,
  (text) => `I don't have an answer to "${text}" yet. Try arithmetic, a country's capital, or asking about your previous question.`,
];

const COMPOUND_OPENERS: ReadonlyArray<string> = ['Here are both answers.', 'Taking your questions one at a time:', 'Sure, in order:'];

const PLAN: ReadonlyArray<Phrase<[string]>> = [
  (what) => `The user is asking ${what}. Let me work out which tools I need.`,
  (what) => `This request is about ${what}. I'll plan the steps before answering.`,
  (what) => `Reading the request: ${what}. Deciding how to get a reliable answer.`,
];

const COMPOSE: ReadonlyArray<string> = [
  'I have what I need; composing the answer.',
  'All the facts are in. Writing the reply now.',
  'The tool results look consistent, so I can answer.',
];

function round(phrases: Phrasebook, topic: string, options: ReadonlyArray<string>): string {
  return phrases.pick(topic, options);
}

export const wording = {
  arithmetic(phrases: Phrasebook, expression: string, value: string): Answer {
    return { text: phrases.pick('arithmetic', ARITHMETIC)(expression, value), facts: [value] };
  },
  divisionByZero(phrases: Phrasebook, expression: string): Answer {
    return { text: phrases.pick('division_by_zero', DIVISION_BY_ZERO)(expression), facts: [] };
  },
  notComputable(phrases: Phrasebook, expression: string, why: string): Answer {
    return { text: phrases.pick('not_computable', NOT_COMPUTABLE)(expression, why), facts: [] };
  },
  capital(phrases: Phrasebook, country: string, city: string): Answer {
    return { text: phrases.pick('capital', CAPITAL)(country, city), facts: [city] };
  },
  capitalUnknown(phrases: Phrasebook, country: string): Answer {
    return { text: phrases.pick('capital_unknown', CAPITAL_UNKNOWN)(country), facts: [] };
  },
  previous(phrases: Phrasebook, question: string): Answer {
    return { text: phrases.pick('previous', PREVIOUS)(question), facts: [question] };
  },
  firstQuestion(phrases: Phrasebook): Answer {
    return { text: round(phrases, 'first_question', FIRST_QUESTION), facts: [] };
  },
  unknown(phrases: Phrasebook, text: string): Answer {
    return { text: phrases.pick('unknown', UNKNOWN)(text), facts: [] };
  },
  plan(phrases: Phrasebook, what: string): string {
    return phrases.pick('plan', PLAN)(what);
  },
  compose(phrases: Phrasebook): string {
    return round(phrases, 'compose', COMPOSE);
  },
  /** Several answers as one reply. */
  combine(phrases: Phrasebook, parts: Answer[]): Answer {
    if (parts.length === 1) return parts[0] as Answer;
    const opener = round(phrases, 'compound', COMPOUND_OPENERS);
    return { text: `${opener} ${parts.map((part) => part.text).join(' ')}`, facts: parts.flatMap((part) => part.facts) };
  },
};

/**
 * The stored assistant message: the same sentences and facts, formatted as markdown (facts in
 * bold, a compound answer as a list), as a chat UI's stored message often is.
 */
export function markdownOf(parts: Answer[]): string {
  const emphasise = (part: Answer): string => part.facts.reduce((text, fact) => (fact && text.includes(fact) ? text.replace(fact, `**${fact}**`) : text), part.text);
  if (parts.length === 1) return emphasise(parts[0] as Answer);
  return parts.map((part) => `- ${emphasise(part)}`).join('\n');
}

/** The opening words of an answer, as a streaming agent's partial result shows them. */
export function partialOf(text: string): string {
  const words = text.split(' ');
  return words.slice(0, Math.max(2, Math.ceil(words.length / 2))).join(' ');
}
