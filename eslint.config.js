import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// ------------------------------------------------------------------ the layers (docs/architecture.md)
// Each folder of functions/ may import only the layers below it. Checked on import specifiers,
// both the package.json aliases (#adapters/...) and relative paths (../adapters/..., ../../infra/...).
// test/infra/layers.test.ts proves each rule fails on a bad import.

const ALIASED = ['domain', 'contract', 'runtime', 'adapters', 'commands', 'lambda'];
const HANDLERS = ['api', 'tasks', 'events'];
const ARCHITECTURE = 'docs/architecture.md';

/** An import of functions/<layer>/: its alias or a relative path into it. */
function layer(name, who) {
  const alias = ALIASED.includes(name) ? `#${name}/|` : '';
  return { regex: `^(${alias}(\\.\\./)+(functions/)?${name}/)`, message: `${who} may not import functions/${name}/ (${ARCHITECTURE}).` };
}
const handlers = (who) => ({
  regex: `^(\\.\\./)+(functions/)?(${HANDLERS.join('|')})/`,
  message: `${who} may not import the handlers (functions/api, tasks, events) (${ARCHITECTURE}).`,
});
const infra = (who) => ({ regex: '^(\\.\\./)+infra(/|$)', message: `${who} may not import infra/: infra imports functions, never the reverse (${ARCHITECTURE}).` });
const awsSdk = (who) => ({ regex: '^(@aws-sdk/|aws-sdk(/|$))', message: `${who} may not call AWS: every AWS call goes through functions/adapters/ (${ARCHITECTURE}).` });

/** `no-restricted-imports` for the files of `folders`, refusing `patterns`. */
function restrict(folders, patterns) {
  return {
    files: folders.map((folder) => `functions/${folder}/**/*.ts`),
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  };
}

const layers = [
  // anything in functions/ (the blocks below repeat it: a later block replaces a rule's options)
  { files: ['functions/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [infra('functions/')] }] } },
  // the domain: itself, zod, node:crypto and node:util, nothing else (no SDK, no aws-lambda types, no runtime)
  restrict(['domain'], [
    {
      regex: '^(?!\\./|#domain/|zod(/|$)|node:crypto$|node:util$)',
      message: `functions/domain/ imports only the domain, zod, node:crypto and node:util (${ARCHITECTURE}).`,
    },
  ]),
  // the contract (table, routes, heal event rules, the API's schemas and OpenAPI document): data that functions/ and infra/ share
  restrict(['contract'], [
    {
      // zod and zod-openapi: the answers' schemas and the OpenAPI document generated from them
      regex: '^(?!\\./|#contract/|#domain/|\\.\\./domain/|zod$|zod-openapi$)',
      message: `functions/contract/ imports only the domain, the contract, zod and zod-openapi (${ARCHITECTURE}).`,
    },
  ]),
  restrict(['runtime'], ['adapters', 'commands', 'lambda'].map((name) => layer(name, 'functions/runtime/')).concat(handlers('functions/runtime/'), infra('functions/runtime/'), awsSdk('functions/runtime/'))),
  restrict(['adapters'], ['commands', 'lambda'].map((name) => layer(name, 'functions/adapters/')).concat(handlers('functions/adapters/'), infra('functions/adapters/'))),
  restrict(['commands'], [layer('lambda', 'functions/commands/'), handlers('functions/commands/'), infra('functions/commands/'), awsSdk('functions/commands/')]),
  restrict(['lambda'], [layer('adapters', 'functions/lambda/'), handlers('functions/lambda/'), infra('functions/lambda/'), awsSdk('functions/lambda/')]),
  // the handlers: parse, call a command, map the result; never an adapter or the SDK
  restrict(HANDLERS, [layer('adapters', 'a handler'), infra('a handler'), awsSdk('a handler')]),
];

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.fledge/', 'coverage/', 'action/dist/', 'dashboard/dist/', 'dashboard/src/api-types.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layers,
);
