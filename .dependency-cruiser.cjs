/**
 * The layer rules of issue 12, checked by `npm run deps` (scripts/check-deps.mjs).
 * docs/architecture.md explains the layers; `npm run deps:graph` redraws docs/architecture.svg.
 *
 * Parser: swc. dependency-cruiser's own TypeScript parser needs typescript < 7 and this project
 * uses TypeScript 7, so the sources are read by @swc/core. swc reads the .ts source as written,
 * so type-only imports (`import type`) count as dependencies too: a layer may not lean on another
 * layer's types either. No tsConfig is given on purpose (reading it would load typescript); the
 * project imports with explicit `.ts` extensions, which resolve without it.
 */

/** @type {(name: string, comment: string, from: string, to: string) => import("dependency-cruiser").IForbiddenRuleType} */
const layerRule = (name, comment, from, to) => ({ name, comment, severity: "error", from: { path: from }, to: { path: to } });

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "Import cycles tie modules together so neither can change or be loaded alone; cut the cycle by moving the shared part down a layer.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    layerRule(
      "suite-not-to-platform",
      "The suite (tests, fixtures, helpers, reporter) tests any deployment; it reaches the bundled reference platform only by spawning platform/cli.ts, never by importing it.",
      "^(tests|fixtures|helpers|reporter)/",
      "^platform/",
    ),
    layerRule(
      "transport-not-to-upper-layers",
      "Transport (helpers/transport: HTTP, WebSocket handshake and session, store probes, network path) moves bytes; it may use core, never the contract's knowledge (helpers/contract), the auth layer built on top of it (helpers/auth) or the fixtures.",
      "^helpers/transport/",
      "^(helpers/(contract|auth)|fixtures)/",
    ),
    layerRule(
      "core-not-to-upper-layers",
      "Core (helpers/core: config, budgets, errors, redaction, meta, stats, formatting, frame normalisation) is the bottom layer: it imports no other part of helpers/ (transport, contract, auth, ...) and no fixtures.",
      "^helpers/core/",
      "^(helpers/(?!core/)|fixtures/)",
    ),
    layerRule(
      "reporter-not-to-fixtures",
      "The reporter judges what the tests recorded (task meta); it never imports the fixtures that record it.",
      "^reporter/",
      "^fixtures/",
    ),
    {
      name: "not-to-unresolvable",
      comment: "An import that cannot be resolved is an edge no rule can see; keep every relative import resolvable so the rules above check something.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    parser: "swc",
    // only meaningful for the tsc parser; swc reads the source before compilation anyway
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(reports|\\.vitest-reports)/" },
    moduleSystems: ["es6", "cjs"],
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
      extensions: [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json", ".d.ts"],
      mainFields: ["module", "main", "types"],
    },
    skipAnalysisNotInRules: false,
    reporterOptions: {
      dot: {
        collapsePattern: "^(node_modules/(@[^/]+/)?[^/]+|helpers/[^/]+|[^/]+)/",
      },
    },
  },
};
