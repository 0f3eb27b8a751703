// Lambda entry point: the express app behind API Gateway HTTP API (payload 2.0) events.
const serverless = require('serverless-http');
const { app } = require('./app');

module.exports.handler = serverless(app, {
  // Let the app see the Lambda context (request id) as express request properties.
  request(req, event, context) {
    req.lambdaEvent = event;
    req.lambdaContext = context;
  },
});
