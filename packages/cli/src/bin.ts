#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { LabError } from '@ephemera/lab';
import { CORRELATE_USAGE, runCorrelate } from './correlate.js';
import { DEMO_USAGE, DemoUsageError, parseDemoFlags, runDemo } from './demo.js';
import { CliError } from './errors.js';
import { runLabDemo } from './lab-demo.js';
import { labStart } from './lab-start.js';
import { POLICY_SUGGEST_USAGE, runPolicySuggestCommand } from './policy-suggest.js';
import { runScanCommand, SCAN_USAGE } from './scan/command.js';

const USAGE = `usage: ephemera <command> [options]

commands:
${DEMO_USAGE}
  lab demo                           a short tour of the lab (bursts, warm reuse, freezing, reaping)
  lab start [options]                serve functions locally with the real aws-lambda-ric
      --template FILE                a SAM template (AWS::Serverless::Function resources)
      --function DIR --handler H     one function: its code directory and FILE.EXPORT handler
      --port N                       port of the API Gateway front and Invoke API (default 3000)
      --api rest|http                event format for --function (default http)
      --clock-scale N                lab seconds per real second for lifecycle timers (default 1)
      --no-freeze                    do not SIGSTOP environments between invocations
      --events                       print lab events as JSON lines on stdout
${CORRELATE_USAGE}
${SCAN_USAGE}
${POLICY_SUGGEST_USAGE}
  help                               this text`;

/** A usage mistake: printed with the usage, exit code 2. */
class UsageError extends Error {}

function parsePort(text: string | undefined): number {
  const port = Number(text ?? '3000');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port is ${JSON.stringify(text)}; accepted: an integer from 0 to 65535`);
  return port;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'demo') {
    const { values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        arms: { type: 'string' },
        victims: { type: 'string' },
        duration: { type: 'string' },
        'time-scale': { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
      },
    });
    await runDemo(parseDemoFlags(values));
    return 0;
  }
  if (command === 'lab' && rest[0] === 'demo') {
    if (rest.length > 1) throw new UsageError(`lab demo takes no arguments (got ${rest.slice(1).join(' ')})`);
    await runLabDemo();
    return 0;
  }
  if (command === 'correlate') return runCorrelate(rest);
  if (command === 'lab' && rest[0] === 'start') {
    const { values } = parseArgs({
      args: rest.slice(1),
      strict: true,
      options: {
        template: { type: 'string' },
        function: { type: 'string' },
        handler: { type: 'string' },
        port: { type: 'string' },
        api: { type: 'string' },
        'clock-scale': { type: 'string' },
        'no-freeze': { type: 'boolean' },
        events: { type: 'boolean' },
      },
    });
    const api = values.api ?? 'http';
    if (api !== 'rest' && api !== 'http')
      throw new UsageError(`--api is ${JSON.stringify(api)}; accepted: rest, http`);
    const scale = values['clock-scale'] === undefined ? undefined : Number(values['clock-scale']);
    if (scale !== undefined && !(scale > 0))
      throw new UsageError(
        `--clock-scale is ${JSON.stringify(values['clock-scale'])}; accepted: a number > 0`,
      );
    await labStart(
      {
        ...(values.template ? { template: values.template } : {}),
        ...(values.function ? { functionDir: values.function } : {}),
        ...(values.handler ? { handler: values.handler } : {}),
        port: parsePort(values.port),
        api,
        ...(scale !== undefined ? { clockScale: scale } : {}),
        freeze: !values['no-freeze'],
        events: values.events ?? false,
      },
      (line) => console.log(line),
    );
    return 0;
  }
  if (command === 'scan') return runScanCommand(rest, (text) => console.log(text));
  if (command === 'policy' && rest[0] === 'suggest')
    return runPolicySuggestCommand(
      rest.slice(1),
      (text) => console.log(text),
      (text) => console.error(text),
    );
  throw new UsageError(`unknown command: ${argv.join(' ')}`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (
      err instanceof UsageError ||
      err instanceof DemoUsageError ||
      (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      console.error(`ephemera: ${(err as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (err instanceof CliError) {
      console.error(
        `ephemera: ${err.code}: ${err.message}${err.code === 'EPHEMERA_ERR_CLI_USAGE' ? `\n\n${USAGE}` : ''}`,
      );
      process.exitCode = err.exitCode;
    } else if (err instanceof LabError) {
      console.error(`ephemera: ${err.code}: ${err.message}`);
      process.exitCode = 1;
    } else {
      console.error(`ephemera: unexpected failure: ${(err as Error)?.stack ?? String(err)}`);
      process.exitCode = 1;
    }
  },
);
