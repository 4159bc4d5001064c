// CommonJS handlers: async and callback styles, module state kept between warm invocations.
let invocations = 0;
console.log("init commonjs");

exports.asyncHandler = async (event, context) => {
  invocations += 1;
  console.log("got", event);
  return { style: "async", invocations, echo: event };
};

exports.callbackHandler = (event, context, callback) => {
  invocations += 1;
  callback(null, { style: "callback", invocations });
};

// The callback fires first; the timer still runs before the response is sent, because the runtime waits for
// the event loop to empty (callbackWaitsForEmptyEventLoop defaults to true).
exports.waitsForTimer = (event, context, callback) => {
  setTimeout(() => console.log("timer ran"), 30);
  callback(null, { waited: context.callbackWaitsForEmptyEventLoop });
};

// With callbackWaitsForEmptyEventLoop = false the response goes at once; the timer runs on a later
// invocation of this warm environment, never in this one.
exports.doesNotWait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => console.log("late timer ran"), 200);
  callback(null, { waited: false });
};

exports.callbackError = (event, context, callback) => {
  callback(new RangeError("out of range: " + event.n));
};

exports.context = async (event, context) => ({
  awsRequestId: context.awsRequestId,
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  remaining: context.getRemainingTimeInMillis(),
  callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
  identity: context.identity === undefined ? "undefined" : context.identity,
  clientContext: context.clientContext === undefined ? "undefined" : context.clientContext,
});

exports.env = async () => ({ env: process.env, cwd: process.cwd(), argv: process.argv.slice(1) });

exports.sleep = async (event) => {
  console.log("going to sleep");
  await new Promise((resolve) => setTimeout(resolve, event.ms));
  return { slept: event.ms };
};

exports.levels = async () => {
  console.info("an info");
  console.warn("a warning");
  console.error("an error", { code: 7 });
  console.debug("a debug");
  process.stdout.write("raw stdout\n");
  return "logged";
};

exports.nested = { deeper: { handler: async () => "nested" } };

exports.version = async () => process.versions.node;

// Tries to reach real AWS the way a hard-coded endpoint would, over https and over fetch.
exports.realAws = async () => {
  const https = require("node:https");
  const viaHttps = await new Promise((resolve) => {
    https.get("https://s3.us-east-1.amazonaws.com/", () => resolve("connected")).on("error", (e) => resolve(e.message));
  });
  const viaFetch = await fetch("https://sqs.us-east-1.amazonaws.com/").then(
    () => "connected",
    (e) => String(e.cause && e.cause.message),
  );
  return { viaHttps, viaFetch };
};
