/**
 * The demo's "SES lockdown() alone" arm: preloaded with NODE_OPTIONS=--require before the runtime
 * client starts, it runs SES lockdown() as a user following the SES README would, with the taming
 * options SES documents for Node services (keep error stacks and the console usable).
 */
require('ses');

declare const lockdown: (options?: Record<string, string>) => void;

lockdown({ errorTaming: 'unsafe', consoleTaming: 'unsafe', stackFiltering: 'verbose' });
