/**
 * The business-impact report's schema id and version, apart from its zod definition
 * (reporter/schema.ts): the run end stamps and checks reports with them without loading zod.
 */
export const REPORT_SCHEMA_ID = 'stagecheck.business-impact';
export const REPORT_SCHEMA_VERSION = 1;
