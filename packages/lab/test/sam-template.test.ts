// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are CloudFormation !Sub text, not JS templates
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadSamTemplate, parseCloudFormationYaml, parseSamTemplate } from '../src/sam-template.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/sam/', import.meta.url));
const FULL = join(FIXTURES, 'full');
const TEMPLATE_FILE = join(FULL, 'template.yaml');

/** Template text read as `test.yaml` in the full fixture's directory. */
function parse(text: string) {
  return parseSamTemplate(text, FULL, 'test.yaml');
}

/** A SAM template with one function holding `props` (YAML indented by six spaces). */
function oneFunction(props: string, head = 'Transform: AWS::Serverless-2016-10-31\n'): string {
  return `${head}Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      CodeUri: src/orders
      Runtime: nodejs20.x
${props}`;
}

function rejects(text: string, message: string, code = 'EPHEMERA_ERR_LAB_TEMPLATE'): void {
  assert.throws(() => parse(text), { name: 'LabError', code, message });
}

describe('parseCloudFormationYaml', () => {
  it('maps every CloudFormation short tag to its long form', () => {
    const { value, warnings } = parseCloudFormationYaml(
      [
        'ref: !Ref Stage',
        'sub: !Sub "${Stage}-x"',
        'subList: !Sub ["${A}", { A: !Ref Stage }]',
        'getAtt: !GetAtt Table.StreamArn',
        'getAttList: !GetAtt [Table, Arn]',
        'join: !Join [",", [a, !Ref Stage]]',
        'if: !If [IsProd, 1, !Ref AWS::NoValue]',
        'select: !Select [0, !GetAZs ""]',
        'split: !Split [",", "a,b"]',
        'findInMap: !FindInMap [Map, !Ref AWS::Region, Key]',
        'importValue: !ImportValue Shared',
        'equals: !Equals [a, b]',
        'not: !Not [!Condition IsProd]',
        'and: !And [!Equals [a, b], !Or [!Condition A, !Condition B]]',
        'base64: !Base64 { "Fn::Sub": x }',
        'cidr: !Cidr [10.0.0.0/16, 4, 8]',
        'getAZs: !GetAZs us-east-1',
      ].join('\n'),
    );
    assert.deepEqual(value, {
      ref: { Ref: 'Stage' },
      sub: { 'Fn::Sub': '${Stage}-x' },
      subList: { 'Fn::Sub': ['${A}', { A: { Ref: 'Stage' } }] },
      getAtt: { 'Fn::GetAtt': ['Table', 'StreamArn'] },
      getAttList: { 'Fn::GetAtt': ['Table', 'Arn'] },
      join: { 'Fn::Join': [',', ['a', { Ref: 'Stage' }]] },
      if: { 'Fn::If': ['IsProd', 1, { Ref: 'AWS::NoValue' }] },
      select: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
      split: { 'Fn::Split': [',', 'a,b'] },
      findInMap: { 'Fn::FindInMap': ['Map', { Ref: 'AWS::Region' }, 'Key'] },
      importValue: { 'Fn::ImportValue': 'Shared' },
      equals: { 'Fn::Equals': ['a', 'b'] },
      not: { 'Fn::Not': [{ Condition: 'IsProd' }] },
      and: {
        'Fn::And': [{ 'Fn::Equals': ['a', 'b'] }, { 'Fn::Or': [{ Condition: 'A' }, { Condition: 'B' }] }],
      },
      base64: { 'Fn::Base64': { 'Fn::Sub': 'x' } },
      cidr: { 'Fn::Cidr': ['10.0.0.0/16', 4, 8] },
      getAZs: { 'Fn::GetAZs': 'us-east-1' },
    });
    assert.deepEqual(warnings, []);
  });

  it('resolves aliases inside tagged collections', () => {
    const { value } = parseCloudFormationYaml('a: &name Stage\nb: !Join ["-", [*name, x]]\n');
    assert.deepEqual(value, { a: 'Stage', b: { 'Fn::Join': ['-', ['Stage', 'x']] } });
  });

  it('warns about an unknown tag with its line and column and keeps the value', () => {
    const { value, warnings } = parseCloudFormationYaml('a: 1\nb: !Custom x\n', 'my.yaml');
    assert.deepEqual(value, { a: 1, b: 'x' });
    assert.deepEqual(warnings, [
      'my.yaml:2:4: Unresolved tag: !Custom; the lab reads the value as if untagged',
    ]);
  });
});

describe('loadSamTemplate with the full fixture', () => {
  it('reads both functions with Globals, layers, parameters and routes', () => {
    const { functions } = loadSamTemplate(TEMPLATE_FILE);
    assert.deepEqual(functions, [
      {
        name: 'orders-api',
        codeDir: join(FULL, 'src/orders'),
        handler: 'index.handler',
        runtime: 'nodejs22.x',
        timeoutSeconds: 20,
        memoryMb: 256,
        environment: {
          STAGE: 'dev',
          LOG_LEVEL: 'debug',
          TABLE: 'orders-dev',
          REGION_NAME: 'us-east-1',
          PORT: '8080',
        },
        layers: [join(FULL, 'layers/shared'), join(FULL, 'layers/extra')],
        reservedConcurrency: 5,
        provisionedConcurrency: 2,
        routes: [
          { api: 'rest', method: 'GET', path: '/orders/{id}' },
          { api: 'rest', method: 'ANY', path: '/orders' },
        ],
      },
      {
        name: 'HealthFunction',
        codeDir: join(FULL, 'src/health'),
        handler: 'index.handler',
        runtime: 'nodejs20.x',
        timeoutSeconds: 10,
        memoryMb: 256,
        environment: { STAGE: 'dev', LOG_LEVEL: 'info' },
        layers: [join(FULL, 'layers/shared')],
        reservedConcurrency: undefined,
        provisionedConcurrency: 0,
        routes: [
          { api: 'http', method: 'GET', path: '/health' },
          { api: 'http', method: 'ANY', path: '$default' },
        ],
      },
    ]);
  });

  it('warns once about each thing the lab does not emulate, naming it', () => {
    const { warnings } = loadSamTemplate(TEMPLATE_FILE);
    assert.deepEqual(warnings, [
      'Globals.Api is not emulated by the lab; ignored',
      'Resources.OrdersFunction.Properties.Environment.Variables.TABLE_ARN: !GetAtt OrdersTable.Arn is evaluated only by CloudFormation; variable left out',
      'Resources.OrdersFunction.Properties.Environment.Variables.API_KEY: !Ref ApiKey names a parameter with no Default; variable left out',
      'Resources.OrdersFunction.Properties.Layers[1] is a layer ARN (arn:aws:lambda:us-east-1:123456789012:layer:remote:3); the lab cannot fetch remote layers; left out',
      'Resources.OrdersFunction.Properties.Events.Queue (Type: SQS) is not emulated by the lab; ignored',
      'Resources.OrdersFunction.Properties.AutoPublishAlias is not emulated by the lab; ignored',
      'Globals.Function.Tracing is not emulated by the lab; ignored',
      'Resources.OrdersFunction.Properties: Description, Policies are not emulated by the lab (no IAM or metadata locally); ignored',
      'Resources.HealthFunction.Properties.Architectures is not emulated by the lab; ignored',
      'Resources.OrdersTable (AWS::DynamoDB::Table) is not emulated by the lab; ignored',
      'Resources.OrdersQueue (AWS::SQS::Queue) is not emulated by the lab; ignored',
    ]);
  });

  it('uses the region option for AWS::Region and parameter overrides over Defaults', () => {
    const { functions } = loadSamTemplate(TEMPLATE_FILE, {
      region: 'eu-west-1',
      parameterOverrides: { Stage: 'prod', ApiKey: 'k-123' },
    });
    assert.deepEqual(functions[0]?.environment, {
      STAGE: 'prod',
      LOG_LEVEL: 'debug',
      TABLE: 'orders-prod',
      REGION_NAME: 'eu-west-1',
      PORT: '8080',
      API_KEY: 'k-123',
    });
  });

  it('resolves a relative template path against the working directory', () => {
    const relative = join('packages/lab/test/fixtures/sam/full/template.yaml');
    const previous = process.cwd();
    process.chdir(join(FIXTURES, '../../../../..'));
    try {
      assert.equal(loadSamTemplate(relative).functions[1]?.codeDir, join(FULL, 'src/health'));
    } finally {
      process.chdir(previous);
    }
  });
});

describe('parseSamTemplate', () => {
  it('warns when the SAM transform is absent', () => {
    const { warnings } = parse(oneFunction('', ''));
    assert.deepEqual(warnings, [
      'Transform: AWS::Serverless-2016-10-31 is missing; the lab reads the template as SAM anyway',
    ]);
  });

  it('warns about each unsupported property and groups IAM and metadata properties', () => {
    const { functions, warnings } = parse(
      oneFunction(`      Description: d
      Tags: { team: a }
      Role: arn:aws:iam::123456789012:role/r
      Policies: [AWSLambdaBasicExecutionRole]
      Architectures: [arm64]
      VpcConfig: { SubnetIds: [s] }
      DeadLetterQueue: { Type: SQS, TargetArn: q }
      Events:
        Nightly:
          Type: Schedule
          Properties: { Schedule: rate(1 day) }
        Upload:
          Type: S3
        Get:
          Type: Api
          Properties:
            Path: /x
            Method: post
            RestApiId: !Ref MyApi
  MyApi:
    Type: AWS::Serverless::Api
    Properties: { StageName: dev }
`),
    );
    assert.deepEqual(functions[0]?.routes, [{ api: 'rest', method: 'POST', path: '/x' }]);
    assert.deepEqual(warnings, [
      'Resources.Fn.Properties.Events.Nightly (Type: Schedule) is not emulated by the lab; ignored',
      'Resources.Fn.Properties.Events.Upload (Type: S3) is not emulated by the lab; ignored',
      'Resources.Fn.Properties.Events.Get.Properties.RestApiId is not emulated by the lab; ignored',
      'Resources.Fn.Properties.Architectures is not emulated by the lab; ignored',
      'Resources.Fn.Properties.VpcConfig is not emulated by the lab; ignored',
      'Resources.Fn.Properties.DeadLetterQueue is not emulated by the lab; ignored',
      'Resources.Fn.Properties: Description, Tags, Role, Policies are not emulated by the lab (no IAM or metadata locally); ignored',
      'Resources.MyApi (AWS::Serverless::Api) is not emulated by the lab; ignored',
    ]);
  });

  it('merges Environment.Variables key by key and lets the function win', () => {
    const text = `Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Handler: index.handler
    CodeUri: src/orders
    Runtime: nodejs24.x
    MemorySize: 512
    Environment:
      Variables: { A: global-a, B: global-b }
Resources:
  First:
    Type: AWS::Serverless::Function
    Properties:
      MemorySize: 1024
      Environment:
        Variables: { B: own-b, C: own-c }
  Second:
    Type: AWS::Serverless::Function
`;
    const { functions, warnings } = parse(text);
    assert.deepEqual(
      functions.map((f) => [f.name, f.runtime, f.memoryMb, f.environment]),
      [
        ['First', 'nodejs24.x', 1024, { A: 'global-a', B: 'own-b', C: 'own-c' }],
        ['Second', 'nodejs24.x', 512, { A: 'global-a', B: 'global-b' }],
      ],
    );
    assert.deepEqual(warnings, []);
  });

  it('resolves !Sub variable maps and ${!Literal}, and leaves out variables it cannot resolve', () => {
    const { functions, warnings } = parse(
      oneFunction(`      Environment:
        Variables:
          URL: !Sub ['https://\${Host}/\${!path}', { Host: !Sub 'api.\${AWS::Region}.example.com' }]
          ACCOUNT: !Sub '\${AWS::AccountId}'
          QUEUE: !Ref Queue
          JOINED: !Join ['-', [a, b]]
  Queue:
    Type: AWS::SQS::Queue
`),
    );
    assert.deepEqual(functions[0]?.environment, { URL: 'https://api.us-east-1.example.com/${path}' });
    assert.deepEqual(warnings, [
      'Resources.Fn.Properties.Environment.Variables.ACCOUNT: !Sub: !Ref AWS::AccountId is known only once deployed; variable left out',
      'Resources.Fn.Properties.Environment.Variables.QUEUE: !Ref Queue names a resource, known only once deployed; variable left out',
      'Resources.Fn.Properties.Environment.Variables.JOINED: !Join ["-",["a","b"]] is evaluated only by CloudFormation; variable left out',
      'Resources.Queue (AWS::SQS::Queue) is not emulated by the lab; ignored',
    ]);
  });

  it('names a function after its logical id when FunctionName is not plain text', () => {
    const { functions, warnings } = parse(
      oneFunction(`      FunctionName: !Sub '\${AWS::StackName}-fn'
`),
    );
    assert.equal(functions[0]?.name, 'Fn');
    assert.deepEqual(warnings, [
      'Resources.Fn.Properties.FunctionName: !Sub: !Ref AWS::StackName is known only once deployed; the lab names the function "Fn"',
    ]);
  });

  it('warns when Runtime is not set and uses nodejs20.x', () => {
    const text = oneFunction('').replace('      Runtime: nodejs20.x\n', '');
    const { functions, warnings } = parse(text);
    assert.equal(functions[0]?.runtime, 'nodejs20.x');
    assert.deepEqual(warnings, ['Resources.Fn.Properties.Runtime is not set; the lab uses nodejs20.x']);
  });

  it('accepts numbers from parameters given as strings', () => {
    const text = oneFunction(
      `      Timeout: !Ref Seconds
`,
      'Transform: AWS::Serverless-2016-10-31\nParameters:\n  Seconds: { Type: Number, Default: "42" }\n',
    );
    assert.equal(parse(text).functions[0]?.timeoutSeconds, 42);
  });

  it('warns about a layer it cannot resolve and a layer resource of another type', () => {
    const { functions, warnings } = parse(
      oneFunction(`      Layers:
        - !GetAtt Other.Arn
        - !Ref Other
  Other:
    Type: AWS::Lambda::LayerVersion
`),
    );
    assert.deepEqual(functions[0]?.layers, []);
    assert.deepEqual(warnings, [
      'Resources.Fn.Properties.Layers[0]: !GetAtt Other.Arn is evaluated only by CloudFormation; layer left out',
      'Resources.Fn.Properties.Layers[1]: !Ref Other names a AWS::Lambda::LayerVersion; the lab reads AWS::Serverless::LayerVersion ContentUri only; left out',
      'Resources.Other (AWS::Lambda::LayerVersion) is not emulated by the lab; ignored',
    ]);
  });
});

describe('template errors', () => {
  it('rejects a missing file', () => {
    const file = join(FIXTURES, 'absent.yaml');
    assert.throws(() => loadSamTemplate(file), {
      code: 'EPHEMERA_ERR_LAB_TEMPLATE',
      message: `SAM template ${JSON.stringify(file)} does not exist; accepted: a readable YAML or JSON file`,
    });
  });

  it('rejects a directory given as the template', () => {
    assert.throws(() => loadSamTemplate(FULL), {
      code: 'EPHEMERA_ERR_LAB_TEMPLATE',
      message: `SAM template ${JSON.stringify(FULL)} is a directory; accepted: a readable YAML or JSON file`,
    });
  });

  it('rejects invalid YAML with its line and column', () => {
    rejects(
      'Resources:\n  Fn: [a, b\n',
      'test.yaml:3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]; accepted: a YAML or JSON SAM template',
    );
    rejects(
      'Resources: {}\nResources: {}\n',
      'test.yaml:2:1: invalid YAML: Map keys must be unique; accepted: a YAML or JSON SAM template',
    );
  });

  it('rejects a top level that is not a mapping', () => {
    rejects(
      '- a\n- b\n',
      'test.yaml: the top level is a list; accepted: a SAM template (a mapping with Resources)',
    );
    rejects('', 'test.yaml: the top level is empty; accepted: a SAM template (a mapping with Resources)');
  });

  it('rejects a template without Resources or without functions', () => {
    rejects(
      'Transform: AWS::Serverless-2016-10-31\n',
      'test.yaml: Resources is missing; accepted: a SAM template (a mapping with Resources)',
    );
    rejects(
      'Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n',
      'test.yaml: Resources has no AWS::Serverless::Function; accepted: a template with at least one function',
    );
    rejects(
      'Resources: [a]\n',
      'test.yaml: Resources is ["a"]; accepted: a mapping of logical ids to resources',
    );
  });

  it('rejects a function without Handler or CodeUri', () => {
    rejects(
      oneFunction('').replace('      Handler: index.handler\n', ''),
      'test.yaml: Resources.Fn.Properties.Handler is missing; accepted: FILE.EXPORT, e.g. "index.handler"',
    );
    rejects(
      oneFunction('').replace('      CodeUri: src/orders\n', ''),
      'test.yaml: Resources.Fn.Properties.CodeUri is missing; accepted: a local directory path',
    );
  });

  it('rejects code in S3', () => {
    rejects(
      oneFunction('').replace('CodeUri: src/orders', 'CodeUri: s3://bucket/code.zip'),
      'test.yaml: Resources.Fn.Properties.CodeUri is "s3://bucket/code.zip", an S3 location; the lab runs local code only; accepted: a local directory path',
    );
    rejects(
      oneFunction('').replace('CodeUri: src/orders', 'CodeUri: { Bucket: b, Key: code.zip }'),
      'test.yaml: Resources.Fn.Properties.CodeUri is an S3 location; the lab runs local code only; accepted: a local directory path',
    );
  });

  it('rejects a runtime other than Node.js, naming the resource', () => {
    rejects(
      oneFunction('').replace('nodejs20.x', 'python3.12'),
      'test.yaml: Resources.Fn.Properties.Runtime is "python3.12"; accepted: nodejs20.x, nodejs22.x, nodejs24.x (the lab runs Node.js functions only)',
    );
  });

  it('rejects container image functions', () => {
    rejects(
      oneFunction('      PackageType: Image\n'),
      'test.yaml: Resources.Fn.Properties.PackageType is "Image"; accepted: "Zip" (the lab runs code from a local directory, not an image)',
    );
  });

  it('rejects properties of the wrong type', () => {
    rejects(
      oneFunction('      Timeout: thirty\n'),
      'test.yaml: Resources.Fn.Properties.Timeout is "thirty"; accepted: a number of seconds',
    );
    rejects(
      oneFunction('      MemorySize: [512]\n'),
      'test.yaml: Resources.Fn.Properties.MemorySize is [512]; accepted: a number of MB',
    );
    rejects(
      oneFunction('      Environment:\n        Variables: [A]\n'),
      'test.yaml: Resources.Fn.Properties.Environment.Variables is ["A"]; accepted: a mapping of names to values',
    );
    rejects(
      oneFunction('      Environment:\n        Variables:\n          A: { nested: true }\n'),
      'test.yaml: Resources.Fn.Properties.Environment.Variables.A is a mapping; accepted: a string, number, boolean, !Ref or !Sub',
    );
    rejects(
      oneFunction('      Layers: layers/extra\n'),
      'test.yaml: Resources.Fn.Properties.Layers is "layers/extra"; accepted: a list of layers',
    );
    rejects(
      oneFunction('      ProvisionedConcurrencyConfig: 2\n'),
      'test.yaml: Resources.Fn.Properties.ProvisionedConcurrencyConfig is 2; accepted: a mapping with ProvisionedConcurrentExecutions',
    );
  });

  it('names Globals.Function when the bad value comes from Globals', () => {
    const text = oneFunction('', 'Globals:\n  Function:\n    Timeout: soon\n');
    rejects(text, 'test.yaml: Globals.Function.Timeout is "soon"; accepted: a number of seconds');
  });

  it('rejects API events without a Path or Method', () => {
    rejects(
      oneFunction(
        '      Events:\n        Get:\n          Type: Api\n          Properties: { Method: get }\n',
      ),
      'test.yaml: Resources.Fn.Properties.Events.Get.Properties.Path is missing; accepted: a path starting with "/"',
    );
    rejects(
      oneFunction(
        '      Events:\n        Get:\n          Type: HttpApi\n          Properties: { Path: /x }\n',
      ),
      'test.yaml: Resources.Fn.Properties.Events.Get.Properties.Method is missing; accepted: both Path and Method, or neither',
    );
    rejects(
      oneFunction('      Events:\n        Get:\n          Properties: { Path: /x }\n'),
      'test.yaml: Resources.Fn.Properties.Events.Get.Type is missing; accepted: an event type such as Api or HttpApi',
    );
  });

  it('rejects a !Ref to nothing in the template', () => {
    rejects(
      oneFunction('      Environment:\n        Variables:\n          T: !Ref Tabel\n'),
      'test.yaml: Resources.Fn.Properties.Environment.Variables.T: !Ref Tabel names no Parameter or Resource of the template; accepted: a Parameter, a Resource or AWS::Region',
    );
  });

  it('rejects a layer resource whose content is in S3', () => {
    rejects(
      oneFunction(
        '      Layers: [!Ref Lib]\n  Lib:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: s3://b/lib.zip\n',
      ),
      'test.yaml: Resources.Lib.Properties.ContentUri is "s3://b/lib.zip", an S3 location; the lab runs local code only; accepted: a local directory path',
    );
  });

  it('rejects two functions with the same name', () => {
    rejects(
      `${oneFunction('      FunctionName: shared\n')}  Other:
    Type: AWS::Serverless::Function
    Properties: { FunctionName: shared, Handler: index.handler, CodeUri: src/health, Runtime: nodejs20.x }
`,
      'test.yaml: Resources.Other is named "shared", like Resources.Fn; accepted: unique function names',
    );
  });

  it('lets the shared function validation report missing directories and out-of-range values', () => {
    rejects(
      oneFunction('').replace('CodeUri: src/orders', 'CodeUri: src/missing'),
      `function "Fn": codeDir ${JSON.stringify(join(FULL, 'src/missing'))} is not a directory`,
      'EPHEMERA_ERR_LAB_CODE_DIR',
    );
    rejects(
      oneFunction('      Timeout: 901\n'),
      'function "Fn": timeoutSeconds is 901; accepted: an integer from 1 to 900',
      'EPHEMERA_ERR_LAB_CONFIG',
    );
  });
});
