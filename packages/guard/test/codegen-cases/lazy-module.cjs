// Required for the first time during an invocation: a module read from disk must still compile.
module.exports = { lazy: true, answer: 6 * 7 };
