import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, taskFolders } from '../package/taskFolders';

/*
 * Every tasks/<Task>/task.json is checked against the rules of the official task schema (tasks.schema.json
 * of microsoft/azure-pipelines-task-lib, the version that knows the Node24 handler), stated here so that the
 * check needs nothing outside the repository, plus the rules this product holds its tasks to.
 */

const tasksDir = path.join(repoRoot, 'tasks');

type Json = Record<string, unknown>;

// ---- The official schema's rules ----
const GUID = /^[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;
const TASK_NAME = /^[A-Za-z0-9-]+$/;
const INPUT_NAME = /^[A-Za-z][A-Za-z0-9]*$/;
const OUTPUT_VARIABLE_NAME = /^[A-Za-z][A-Za-z0-9]*$/;
const AGENT_VERSION = /^\d+\.\d+(\.\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const FRIENDLY_NAME_MAX = 40;
const TOP_LEVEL: Record<string, 'string' | 'boolean' | 'object' | 'array'> = {
  $schema: 'string', id: 'string', name: 'string', friendlyName: 'string', description: 'string', helpUrl: 'string',
  helpMarkDown: 'string', author: 'string', preview: 'boolean', deprecated: 'boolean', removalDate: 'string',
  deprecationMessage: 'string', showEnvironmentVariables: 'boolean', runsOn: 'array', visibility: 'array',
  category: 'string', groups: 'array', demands: 'array', minimumAgentVersion: 'string', version: 'object',
  instanceNameFormat: 'string', releaseNotes: 'string', inputs: 'array', dataSourceBindings: 'array',
  sourceDefinitions: 'array', prejobexecution: 'object', execution: 'object', postjobexecution: 'object',
  messages: 'object', outputVariables: 'array', restrictions: 'object',
};
const CATEGORIES = ['Build', 'Utility', 'Test', 'Package', 'Deploy', 'Azure Repos', 'Azure Boards', 'Azure Pipelines', 'Azure Test Plans', 'Azure Artifacts'];
const RUNS_ON = ['Agent', 'MachineGroup', 'Server', 'ServerGate', 'DeploymentGroup'];
const VISIBILITY = ['Build', 'Release'];
const HANDLERS = ['Node24', 'Node20_1', 'Node16', 'Node10', 'Node', 'PowerShell3', 'PowerShell'];
const INPUT_PROPERTIES = ['name', 'aliases', 'label', 'type', 'defaultValue', 'required', 'helpMarkDown', 'groupName', 'visibleRule', 'properties', 'options'];
const INPUT_TYPES = ['boolean', 'filePath', 'multiLine', 'pickList', 'radio', 'secureFile', 'string', 'int', 'identities', 'querycontrol'];
const CONNECTED_SERVICE = /^connectedService:.+$/;
const TRUE_FALSE = ['True', 'False'];
const INPUT_UI_PROPERTIES: Record<string, (value: unknown) => boolean> = {
  EditableOptions: (v) => TRUE_FALSE.includes(v as string),
  MultiSelect: (v) => TRUE_FALSE.includes(v as string),
  MultiSelectFlatList: (v) => TRUE_FALSE.includes(v as string),
  DisableManageLink: (v) => TRUE_FALSE.includes(v as string),
  IsSearchable: (v) => TRUE_FALSE.includes(v as string),
  PopulateDefaultValue: (v) => TRUE_FALSE.includes(v as string),
  isVariableOrNonNegativeNumber: (v) => v === 'true' || v === 'false',
  resizable: (v) => typeof v === 'boolean',
  rows: (v) => typeof v === 'string' && /^\d+$/.test(v),
  maxLength: (v) => typeof v === 'string' && /^\d+$/.test(v),
  editorExtension: (v) => typeof v === 'string',
  EndpointFilterRule: (v) => typeof v === 'string',
};
const GROUP_PROPERTIES = ['name', 'displayName', 'isExpanded', 'visibleRule'];
const DATA_SOURCE_BINDING_PROPERTIES = ['target', 'endpointId', 'dataSourceName', 'parameters', 'resultTemplate', 'endpointUrl',
  'resultSelector', 'RequestVerb', 'requestContent', 'callbackContextTemplate', 'callbackRequiredTemplate', 'initialContextTemplate'];
const REQUEST_VERBS = ['GET', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PUT', 'TRACE', 'PATCH'];
const SOURCE_DEFINITION_PROPERTIES = ['target', 'endpoint', 'selector', 'keySelector', 'authKey'];
const COMMAND_MODES = ['any', 'restricted'];
const OUTPUT_VARIABLE_PROPERTIES = ['name', 'description'];
const VERSION_PROPERTIES = ['Major', 'Minor', 'Patch'];
// The operators the task editor understands in a visibleRule clause; longest first so `!=` wins over `=`.
const VISIBLE_RULE_CLAUSE =
  /^\s*([A-Za-z][A-Za-z0-9]*)\s*(NotContainsValue|ContainsValue|NotStartsWith|StartsWith|NotEndsWith|EndsWith|NotContains|Contains|!=|==|<=|>=|=|<|>)\s*\S.*$/;

// ---- This product's rules ----
const PRODUCT_REQUIRED = ['id', 'name', 'friendlyName', 'description', 'helpMarkDown', 'category', 'author', 'version',
  'minimumAgentVersion', 'instanceNameFormat', 'inputs', 'outputVariables', 'execution'];
const PRODUCT_HANDLERS = ['Node20_1', 'Node24'];
const PRODUCT_TARGET = 'index.js';

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';
const typeOf = (value: unknown) => (Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value);

/** The schema's rules; returns one sentence per violation, each naming the JSON path. */
function schemaProblems(task: Json): string[] {
  const problems: string[] = [];
  const add = (where: string, what: string) => problems.push(`${where}: ${what}`);
  const onlyKnown = (where: string, value: Json, known: string[]) => {
    for (const key of Object.keys(value)) if (!known.includes(key)) add(where, `unknown property '${key}'`);
  };

  onlyKnown('(root)', task, Object.keys(TOP_LEVEL));
  for (const [key, type] of Object.entries(TOP_LEVEL)) {
    if (key in task && typeOf(task[key]) !== type) add(key, `is ${typeOf(task[key])}, expected ${type}`);
  }
  if (isString(task.id) && !GUID.test(task.id)) add('id', `'${task.id}' is not a GUID`);
  if (isString(task.name) && !TASK_NAME.test(task.name)) add('name', `'${task.name}' has characters other than letters, digits and '-'`);
  if (isString(task.friendlyName) && task.friendlyName.length > FRIENDLY_NAME_MAX) add('friendlyName', `is longer than ${FRIENDLY_NAME_MAX} characters`);
  if (isString(task.removalDate) && !DATE.test(task.removalDate)) add('removalDate', 'is not YYYY-MM-DD');
  if (isString(task.minimumAgentVersion) && !AGENT_VERSION.test(task.minimumAgentVersion)) add('minimumAgentVersion', `'${task.minimumAgentVersion}' is not a version`);
  if (isString(task.category) && !CATEGORIES.includes(task.category)) add('category', `'${task.category}' is not one of ${CATEGORIES.join(', ')}`);
  const enumArray = (key: string, allowed: string[]) => {
    const value = task[key];
    if (Array.isArray(value)) value.forEach((v, i) => { if (!allowed.includes(v as string)) add(`${key}[${i}]`, `'${String(v)}' is not one of ${allowed.join(', ')}`); });
  };
  enumArray('runsOn', RUNS_ON);
  enumArray('visibility', VISIBILITY);
  if (Array.isArray(task.demands)) task.demands.forEach((d, i) => { if (!isString(d)) add(`demands[${i}]`, 'is not a string'); });

  if (isObject(task.version)) {
    onlyKnown('version', task.version, VERSION_PROPERTIES);
    for (const part of VERSION_PROPERTIES) {
      if (typeof task.version[part] !== 'number') add(`version.${part}`, 'is required and must be a number');
    }
  }

  if (Array.isArray(task.groups)) {
    task.groups.forEach((group, i) => {
      const where = `groups[${i}]`;
      if (!isObject(group)) return add(where, 'is not an object');
      onlyKnown(where, group, GROUP_PROPERTIES);
      for (const key of ['name', 'displayName']) if (!isString(group[key])) add(`${where}.${key}`, 'is required and must be a string');
      if ('isExpanded' in group && typeof group.isExpanded !== 'boolean') add(`${where}.isExpanded`, 'must be a boolean');
      if ('visibleRule' in group && !isString(group.visibleRule)) add(`${where}.visibleRule`, 'must be a string');
    });
  }

  if (Array.isArray(task.inputs)) {
    task.inputs.forEach((input, i) => {
      const where = `inputs[${i}]`;
      if (!isObject(input)) return add(where, 'is not an object');
      onlyKnown(where, input, INPUT_PROPERTIES);
      for (const key of ['name', 'label', 'type']) if (!isString(input[key])) add(`${where}.${key}`, 'is required and must be a string');
      if (isString(input.name) && !INPUT_NAME.test(input.name)) add(`${where}.name`, `'${input.name}' must start with a letter and hold only letters and digits`);
      if (isString(input.type) && !INPUT_TYPES.includes(input.type) && !CONNECTED_SERVICE.test(input.type)) {
        add(`${where}.type`, `'${input.type}' is not an input type (${INPUT_TYPES.join(', ')}, connectedService:<kind>)`);
      }
      if ('defaultValue' in input && !isString(input.defaultValue) && typeof input.defaultValue !== 'boolean') add(`${where}.defaultValue`, 'must be a string or a boolean');
      if ('required' in input && typeof input.required !== 'boolean') add(`${where}.required`, 'must be a boolean');
      for (const key of ['helpMarkDown', 'groupName', 'visibleRule']) if (key in input && !isString(input[key])) add(`${where}.${key}`, 'must be a string');
      if ('aliases' in input && !(Array.isArray(input.aliases) && input.aliases.every(isString))) add(`${where}.aliases`, 'must be an array of strings');
      if ('options' in input && !isObject(input.options)) add(`${where}.options`, 'must be an object');
      if ('properties' in input) {
        if (!isObject(input.properties)) add(`${where}.properties`, 'must be an object');
        else for (const [key, value] of Object.entries(input.properties)) {
          const check = INPUT_UI_PROPERTIES[key];
          if (check && !check(value)) add(`${where}.properties.${key}`, `'${String(value)}' is not allowed`);
        }
      }
    });
  }

  for (const section of ['prejobexecution', 'execution', 'postjobexecution']) {
    const handlers = task[section];
    if (!isObject(handlers)) continue;
    for (const [handler, body] of Object.entries(handlers)) {
      const where = `${section}.${handler}`;
      if (!HANDLERS.includes(handler)) { add(where, `'${handler}' is not an execution handler (${HANDLERS.join(', ')})`); continue; }
      if (!isObject(body)) { add(where, 'is not an object'); continue; }
      if (!isString(body.target)) add(`${where}.target`, 'is required and must be a string');
      if ('platforms' in body && !(Array.isArray(body.platforms) && body.platforms.every((p) => p === 'windows'))) add(`${where}.platforms`, "may only list 'windows'");
      for (const key of ['argumentFormat', 'workingDirectory']) if (key in body && !isString(body[key])) add(`${where}.${key}`, 'must be a string');
    }
  }

  const stringProperties = (where: string, value: Json, known: string[], objects: string[] = []) => {
    onlyKnown(where, value, known);
    for (const [key, v] of Object.entries(value)) {
      if (!known.includes(key)) continue;
      if (objects.includes(key) ? !isObject(v) : !isString(v)) add(`${where}.${key}`, `must be ${objects.includes(key) ? 'an object' : 'a string'}`);
    }
  };
  if (Array.isArray(task.dataSourceBindings)) {
    task.dataSourceBindings.forEach((binding, i) => {
      const where = `dataSourceBindings[${i}]`;
      if (!isObject(binding)) return add(where, 'is not an object');
      stringProperties(where, binding, DATA_SOURCE_BINDING_PROPERTIES, ['parameters']);
      if ('RequestVerb' in binding && !REQUEST_VERBS.includes(binding.RequestVerb as string)) add(`${where}.RequestVerb`, `is not one of ${REQUEST_VERBS.join(', ')}`);
    });
  }
  if (Array.isArray(task.sourceDefinitions)) {
    task.sourceDefinitions.forEach((definition, i) => {
      const where = `sourceDefinitions[${i}]`;
      if (!isObject(definition)) return add(where, 'is not an object');
      stringProperties(where, definition, SOURCE_DEFINITION_PROPERTIES);
    });
  }
  if (isObject(task.restrictions)) {
    const { commands, settableVariables } = task.restrictions;
    onlyKnown('restrictions', task.restrictions, ['commands', 'settableVariables']);
    if (commands !== undefined) {
      if (!isObject(commands)) add('restrictions.commands', 'must be an object');
      else {
        onlyKnown('restrictions.commands', commands, ['mode']);
        if ('mode' in commands && !COMMAND_MODES.includes(commands.mode as string)) add('restrictions.commands.mode', `is not one of ${COMMAND_MODES.join(', ')}`);
      }
    }
    if (settableVariables !== undefined) {
      if (!isObject(settableVariables)) add('restrictions.settableVariables', 'must be an object');
      else {
        onlyKnown('restrictions.settableVariables', settableVariables, ['allowed']);
        const allowed = settableVariables.allowed;
        if (allowed !== undefined && !(Array.isArray(allowed) && allowed.every(isString))) add('restrictions.settableVariables.allowed', 'must be an array of strings');
      }
    }
  }

  if (Array.isArray(task.outputVariables)) {
    task.outputVariables.forEach((variable, i) => {
      const where = `outputVariables[${i}]`;
      if (!isObject(variable)) return add(where, 'is not an object');
      onlyKnown(where, variable, OUTPUT_VARIABLE_PROPERTIES);
      if (!isString(variable.name)) add(`${where}.name`, 'is required and must be a string');
      else if (!OUTPUT_VARIABLE_NAME.test(variable.name)) add(`${where}.name`, `'${variable.name}' must start with a letter and hold only letters and digits`);
      if ('description' in variable && !isString(variable.description)) add(`${where}.description`, 'must be a string');
    });
  }
  return problems;
}

/** The rules this product holds its tasks to, beyond the schema. */
function productProblems(task: Json, folderName: string): string[] {
  const problems: string[] = [];
  const add = (where: string, what: string) => problems.push(`${where}: ${what}`);
  for (const key of PRODUCT_REQUIRED) if (!(key in task)) add(key, 'is required');
  for (const key of ['friendlyName', 'description', 'helpMarkDown', 'author', 'instanceNameFormat']) {
    if (isString(task[key]) && !(task[key] as string).trim()) add(key, 'is blank');
  }
  if (task.name !== folderName) add('name', `'${String(task.name)}' differs from its folder '${folderName}'`);
  if (task.category !== 'Deploy' && task.category !== 'Utility') add('category', "must be 'Deploy' or 'Utility'");

  const execution = isObject(task.execution) ? task.execution : {};
  for (const handler of PRODUCT_HANDLERS) {
    const body = execution[handler];
    if (!isObject(body) || body.target !== PRODUCT_TARGET) add(`execution.${handler}`, `must run '${PRODUCT_TARGET}'`);
  }

  const inputs = (Array.isArray(task.inputs) ? task.inputs : []).filter(isObject);
  const groups = (Array.isArray(task.groups) ? task.groups : []).filter(isObject);
  const inputNames = inputs.map((i) => String(i.name));
  const seen = new Set<string>();
  for (const name of inputNames) {
    // The agent passes inputs as INPUT_<NAME>, upper-cased, so names differing only in case collide.
    if (seen.has(name.toUpperCase())) add(`inputs.${name}`, 'is declared twice (names are compared without case)');
    seen.add(name.toUpperCase());
  }
  const groupNames = groups.map((g) => String(g.name));
  if (new Set(groupNames).size !== groupNames.length) add('groups', 'has a name declared twice');

  const checkRule = (where: string, rule: unknown) => {
    if (!isString(rule)) return;
    for (const clause of rule.split(/&&|\|\|/)) {
      const match = VISIBLE_RULE_CLAUSE.exec(clause);
      if (!match) add(where, `clause '${clause.trim()}' is not '<input> <operator> <value>'`);
      else if (!inputNames.includes(match[1])) add(where, `refers to '${match[1]}', which is not an input`);
    }
  };
  for (const input of inputs) {
    const where = `inputs.${String(input.name)}`;
    if (!isString(input.label) || !input.label.trim()) add(`${where}.label`, 'is missing or blank');
    if (!isString(input.helpMarkDown) || !input.helpMarkDown.trim()) add(`${where}.helpMarkDown`, 'is missing or blank');
    if (isString(input.groupName) && !groupNames.includes(input.groupName)) add(`${where}.groupName`, `'${input.groupName}' is not a group`);
    checkRule(`${where}.visibleRule`, input.visibleRule);
    if (input.type === 'int' && 'defaultValue' in input && !/^\d+$/.test(String(input.defaultValue))) add(`${where}.defaultValue`, 'is not a whole number');
    if (input.type === 'boolean' && 'defaultValue' in input && !/^(true|false)$/.test(String(input.defaultValue))) add(`${where}.defaultValue`, 'is not true or false');
  }
  groups.forEach((group) => checkRule(`groups.${String(group.name)}.visibleRule`, group.visibleRule));
  for (const group of groupNames) {
    if (!inputs.some((i) => i.groupName === group)) add(`groups.${group}`, 'holds no input');
  }

  // $(X) in the instance name is an input of the task, or a pipeline variable (which has a dot).
  for (const [, reference] of String(task.instanceNameFormat ?? '').matchAll(/\$\(([^)]+)\)/g)) {
    if (!reference.includes('.') && !inputNames.includes(reference)) add('instanceNameFormat', `refers to '${reference}', which is not an input`);
  }
  return problems;
}

/** Input names a task's sources read, through the task context or task-lib directly. */
function inputNamesReadBy(source: string): string[] {
  const names = new Set<string>();
  const patterns = [
    /\b(?:input|boolInput|intInput|secretInput)\(\s*['"`]([^'"`]+)['"`]/g,
    /\bget(?:Bool|Path|Delimited)?Input(?:Required)?\(\s*['"`]([^'"`]+)['"`]/g,
  ];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) names.add(match[1]);
  for (const match of source.matchAll(/\bconnectAzure\(\s*[\w.]+\s*(?:,\s*['"`]([^'"`]+)['"`])?\s*\)/g)) {
    names.add(match[1] ?? 'azureSubscription');
  }
  // A task that calls galleryTargetInput reads the inputs tasks/common/gallery.ts reads.
  if (/(?<!function )\bgalleryTargetInput\(/.test(source)) {
    for (const name of inputNamesReadBy(fs.readFileSync(path.join(tasksDir, 'common', 'gallery.ts'), 'utf8'))) names.add(name);
  }
  return [...names];
}

interface TaskFile { folder: string; file: string; json: Json }

function taskFiles(): TaskFile[] {
  return taskFolders().map((folder) => {
    const file = path.join(tasksDir, folder, 'task.json');
    return { folder, file, json: JSON.parse(fs.readFileSync(file, 'utf8')) as Json };
  });
}

const inputNamesOf = (task: Json) => (task.inputs as Json[]).map((i) => i.name as string);

// The inputs the image factory's users carry over from its scripts: renaming one breaks their pipelines.
const EXPECTED_INPUTS: Record<string, string[]> = {
  ValidateLabsJson: ['ConfigurationLocation'],
  MakeGoldenImageVMs: ['ConfigurationLocation', 'azureSubscription', 'DevTestLabName', 'ImagePaths', 'vmSize', 'includeSysprep', 'machineUserName', 'machinePassword', 'machineSshPublicKey', 'maxConcurrentJobs', 'StandardTimeoutMinutes', 'TimeoutMinutes', 'dryRun'],
  SnapImagesFromVMs: [
    'azureSubscription',
    'DevTestLabName',
    'galleryName',
    'galleryResourceGroup',
    'ConfigurationLocation',
    'galleryReplicaCount',
    'galleryStorageAccountType',
    'maxConcurrentJobs',
    'TimeoutMinutes',
    'dryRun',
  ],
  DistributeImages: [
    'ConfigurationLocation',
    'azureSubscription',
    'SubscriptionId',
    'DevTestLabName',
    'galleryName',
    'galleryResourceGroup',
    'maxConcurrentJobs',
    'fanOut',
    'ImagesToSave',
    'TimeoutMinutes',
    'dryRun',
  ],
  RetireImages: [
    'ConfigurationLocation',
    'azureSubscription',
    'SubscriptionId',
    'DevTestLabName',
    'ImagesToSave',
    'includePowerShellImages',
    'galleryName',
    'galleryResourceGroup',
    'maxConcurrentJobs',
    'dryRun',
  ],
  CleanUpFactory: ['azureSubscription', 'DevTestLabName', 'galleryName', 'galleryResourceGroup', 'dryRun'],
  PublishImageCatalog: [
    'ConfigurationLocation',
    'azureSubscription',
    'SubscriptionId',
    'DevTestLabName',
    'ImagesToSave',
    'includePowerShellImages',
    'galleryName',
    'galleryResourceGroup',
    'CatalogFile',
    'ArtifactName',
    'maxConcurrentJobs',
  ],
};
const EXPECTED_OUTPUTS: Record<string, string[]> = {
  ValidateLabsJson: ['LabCount', 'TemplateCount'],
  MakeGoldenImageVMs: ['VmNames'],
  SnapImagesFromVMs: ['SavedImageNames'],
  DistributeImages: ['CreatedImageIds'],
  RetireImages: ['DeletedImageCount'],
  CleanUpFactory: ['DeletedVmCount'],
  PublishImageCatalog: ['CatalogFile'],
};

describe('task.json', () => {
  const tasks = taskFiles();

  it('exists for every task of the product', () => {
    assert.deepEqual(tasks.map((t) => t.folder).sort(), Object.keys(EXPECTED_INPUTS).sort());
  });

  for (const { folder, json } of tasks) {
    describe(folder, () => {
      it('follows the official task schema', () => {
        assert.deepEqual(schemaProblems(json), []);
      });

      it("follows the product's rules (labels, help, groups, both Node handlers)", () => {
        assert.deepEqual(productProblems(json, folder), []);
      });

      it('keeps the input names and output variables pipelines rely on', () => {
        assert.deepEqual(inputNamesOf(json), EXPECTED_INPUTS[folder]);
        assert.deepEqual((json.outputVariables as Json[]).map((v) => v.name), EXPECTED_OUTPUTS[folder]);
      });

      it('declares the Azure connection as an AzureRM service connection', () => {
        const connection = (json.inputs as Json[]).find((i) => i.name === 'azureSubscription');
        if (!EXPECTED_INPUTS[folder].includes('azureSubscription')) return assert.equal(connection, undefined);
        assert.equal(connection?.type, 'connectedService:AzureRM');
        assert.equal(connection?.label, 'Azure subscription');
        assert.equal(connection?.required, true);
      });

      it('declares every input its sources read', function () {
        const sources = fs.readdirSync(path.join(tasksDir, folder)).filter((f) => f.endsWith('.ts'));
        if (sources.length === 0) this.skip();
        const declared = inputNamesOf(json);
        for (const source of sources) {
          const read = inputNamesReadBy(fs.readFileSync(path.join(tasksDir, folder, source), 'utf8'));
          const missing = read.filter((name) => !declared.includes(name));
          assert.deepEqual(missing, [], `tasks/${folder}/${source} reads inputs that task.json does not declare`);
        }
      });
    });
  }

  it('gives every task its own id', () => {
    const ids = tasks.map((t) => String(t.json.id).toLowerCase());
    assert.equal(new Set(ids).size, ids.length, `duplicate task ids: ${ids.join(', ')}`);
  });
});

describe('task.json rules', () => {
  const sample = (): Json => JSON.parse(fs.readFileSync(path.join(tasksDir, 'RetireImages', 'task.json'), 'utf8'));

  it('reject what the official schema rejects', () => {
    const task = sample();
    task.unknown = true;
    task.id = 'not-a-guid';
    task.name = 'Retire Images';
    task.category = 'Deployment';
    (task.version as Json).Build = 1;
    const inputs = task.inputs as Json[];
    inputs[0].name = '1Configuration';
    inputs[1].type = 'azureConnection';
    inputs[2].defaultValue = 2;
    delete inputs[3].label;
    (task.execution as Json).Node22 = { target: 'index.js' };
    (task.outputVariables as Json[])[0].name = 'Deleted-Count';
    const problems = schemaProblems(task);
    for (const where of ['(root)', 'id', 'name', 'category', 'version', 'inputs[0].name', 'inputs[1].type',
      'inputs[2].defaultValue', 'inputs[3].label', 'execution.Node22', 'outputVariables[0].name']) {
      assert.ok(problems.some((p) => p.startsWith(`${where}:`)), `no problem reported at ${where}: ${problems.join('; ')}`);
    }
    assert.equal(problems.length, 11, problems.join('\n'));
  });

  it("reject what the product's rules reject", () => {
    const task = sample();
    delete (task.execution as Json).Node24;
    const inputs = task.inputs as Json[];
    inputs[1].helpMarkDown = ' ';
    inputs[2].groupName = 'nowhere';
    inputs[3].visibleRule = 'dryRun = true && NoSuchInput != x';
    inputs.push({ ...inputs[0], name: 'configurationlocation' });
    task.instanceNameFormat = 'Retire $(Missing) in $(Build.SourcesDirectory)';
    const problems = productProblems(task, 'RetireImages');
    assert.deepEqual(problems, [
      "execution.Node24: must run 'index.js'",
      'inputs.configurationlocation: is declared twice (names are compared without case)',
      'inputs.azureSubscription.helpMarkDown: is missing or blank',
      "inputs.SubscriptionId.groupName: 'nowhere' is not a group",
      "inputs.DevTestLabName.visibleRule: refers to 'NoSuchInput', which is not an input",
      "instanceNameFormat: refers to 'Missing', which is not an input",
    ]);
  });

  it('find the inputs a task reads', () => {
    const source = `
      const lab = ctx.input('DevTestLabName', true);
      const dry = context.boolInput("dryRun", false);
      const jobs = ctx.intInput('maxConcurrentJobs', { default: 20, min: 1, max: 200 });
      const raw = tl.getInput('Other');
      const azure = connectAzure(ctx);
      const other = connectAzure(ctx, 'secondConnection');
      const gallery = galleryTargetInput(ctx);`;
    assert.deepEqual(
      inputNamesReadBy(source).sort(),
      ['DevTestLabName', 'Other', 'azureSubscription', 'dryRun', 'galleryName', 'galleryResourceGroup', 'maxConcurrentJobs', 'secondConnection'].sort(),
    );
  });
});
