'use strict';
// A stand-in for LAMBDA_TASK_ROOT: a handler module loaded at INIT (with a helper and an SDK-like
// client class), a module it requires lazily at
// invoke time (with its own dependencies), and a module nobody loads until an implant tries to
// pre-seed it. Written to a temp directory by the test (or by run-implant.cjs when run by hand).
const fs = require('node:fs');
const path = require('node:path');

const FILES = {
  'package.json': '{ "name": "fake-function", "type": "commonjs" }\n',
  'index.js': [
    "const greeter = require('./lib/greeter.js');",
    "const { Client } = require('./lib/client.js');",
    'const client = new Client();',
    'let served = 0;',
    'exports.handler = async (event) => {',
    '  served += 1;',
    "  const lazy = require('./lib/lazy.js');",
    '  return { greeting: greeter.greet(event && event.name), served, lazy: lazy.describe(), sent: client.send(event) };',
    '};',
    '',
  ].join('\n'),
  'lib/greeter.js': [
    "exports.greet = (name) => 'hello ' + (name || 'world');",
    'exports.count = 0;',
    'exports.bump = () => { exports.count += 1; return exports.count; };',
    '',
  ].join('\n'),
  'lib/client.js': [
    '// A class an SDK would export: its prototype methods are where an implant wraps `send`.',
    'class Client {',
    '  constructor() { this.sent = 0; }',
    '  send(command) { this.sent += 1; return this.sent; }',
    '  destroy() {}',
    '}',
    'exports.Client = Client;',
    '',
  ].join('\n'),
  'lib/lazy.js': [
    "const helper = require('./helper.js');",
    "const data = require('./data.json');",
    'module.exports = { describe: () => helper.label(data.name) };',
    '',
  ].join('\n'),
  'lib/helper.js': "exports.label = (name) => '[' + name + ']';\n",
  'lib/data.json': '{ "name": "lazy" }\n',
  'lib/never-loaded.js': "exports.secret = () => 'the real never-loaded module';\n",
};

/** Write the fake deployment under `dir` (created if missing); returns `dir`. */
function createFakeDeployment(dir) {
  for (const [name, text] of Object.entries(FILES)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return dir;
}

module.exports = { createFakeDeployment };
