// The Node.js worker: one Lambda execution environment running one function's Node.js handler, one event at
// a time. It speaks the same frames over the same two private pipes as the Python worker (see protocol.py),
// so the parent side (process.py, pool.py, runtime.py) does not know which language runs behind it.
//
// Started as `node node_worker.mjs --cmd-fd N --evt-fd M` with the environment built by environment.py and
// cwd = the extracted code. Behaviour follows the AWS Lambda Node.js runtime:
// - handler loading: https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html (CommonJS via require,
//   ES modules via import for .mjs files or .js files under a package.json with "type": "module");
// - the context object: https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html
// - errors: https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html ({errorType, errorMessage,
//   trace}) and logs: https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html
//   (`<ISO time>\t<request id>\t<LEVEL>\t<message>`).
// Only Node's standard library is used: this file is shipped with pipemu and runs on any Node >= 16.

import { randomBytes } from "node:crypto";
import dns from "node:dns";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import util from "node:util";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

// Frame kinds; the numbers are protocol.py's.
const READY = 1;
const INIT_ERROR = 2;
const LOG = 3;
const RESULT = 4;
const INVOKE = 10;

const SELF = fileURLToPath(import.meta.url);
const AWS_TASK_ROOT = "/var/task";
const AWS_RUNTIME_FILE = "/var/runtime/index.mjs";

function options(argv) {
  const out = {};
  for (let i = 0; i + 1 < argv.length; i += 2) out[argv[i]] = argv[i + 1];
  return { cmdFd: Number(out["--cmd-fd"]), evtFd: Number(out["--evt-fd"]) };
}

const { cmdFd, evtFd } = options(process.argv.slice(2));
const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();

// ---- frames -------------------------------------------------------------------------------------------

function encode(kind, header, body) {
  const head = header == null ? Buffer.alloc(0) : Buffer.from(JSON.stringify(header), "utf8");
  const payload = body == null ? Buffer.alloc(0) : body;
  const prefix = Buffer.alloc(9);
  prefix.writeUInt32BE(5 + head.length + payload.length, 0);
  prefix.writeUInt8(kind, 4);
  prefix.writeUInt32BE(head.length, 5);
  return Buffer.concat([prefix, head, payload]);
}

function send(kind, header, body) {
  // Synchronous, so every log line is in the pipe before the result that follows it (the parent relies on
  // that order), and nothing is lost if the handler ends the process right after.
  const frame = encode(kind, header, body);
  let offset = 0;
  while (offset < frame.length) {
    try {
      offset += fs.writeSync(evtFd, frame, offset);
    } catch (e) {
      if (e.code !== "EAGAIN") throw e;
    }
  }
}

function sendLog(text) {
  if (text) send(LOG, null, Buffer.from(text, "utf8"));
}

class FrameReader {
  constructor() {
    this.buf = Buffer.alloc(0);
  }

  feed(data) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
  }

  next() {
    if (this.buf.length < 9) return null;
    const end = 4 + this.buf.readUInt32BE(0);
    if (this.buf.length < end) return null;
    const kind = this.buf.readUInt8(4);
    const headLen = this.buf.readUInt32BE(5);
    const header = headLen ? JSON.parse(this.buf.subarray(9, 9 + headLen).toString("utf8")) : {};
    const body = this.buf.subarray(9 + headLen, end);
    this.buf = this.buf.subarray(end);
    return { kind, header, body };
  }
}

// ---- logging ------------------------------------------------------------------------------------------

let currentRequestId; // undefined during init: AWS prints "undefined" there too

function patchConsole() {
  const levels = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG", trace: "TRACE" };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => {
      sendLog(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(...args)}\n`);
    };
  }
  console.fatal = (...args) => {
    sendLog(`${new Date().toISOString()}\t${currentRequestId}\tFATAL\t${util.format(...args)}\n`);
  };
}

// ---- errors -------------------------------------------------------------------------------------------

// A prototype-like `name` (not an own enumerable property), so logged errors show it once, as errorType.
function named(error, name) {
  Object.defineProperty(error, "name", { value: name, enumerable: false, writable: true, configurable: true });
  return error;
}

class RuntimeError extends Error {
  constructor(type, message) {
    super(message);
    named(this, type);
  }
}

function awsPaths(text) {
  // Show the deployment package and the runtime where AWS has them, so traces match what AWS reports.
  return text
    .split(pathToFileURL(SELF).href).join(`file://${AWS_RUNTIME_FILE}`)
    .split(SELF).join(AWS_RUNTIME_FILE)
    .split(taskRoot + path.sep).join(AWS_TASK_ROOT + "/");
}

function isError(value) {
  return value instanceof Error || util.types.isNativeError(value);
}

// The invocation response for a failure: the runtime's `toRuntimeResponse`.
function errorResponse(error) {
  try {
    if (isError(error)) {
      if (typeof error.stack !== "string") throw new Error("Error stack is missing.");
      return { errorType: error.name, errorMessage: error.message, trace: awsPaths(error.stack).split("\n") };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: "handled",
      errorMessage:
        "callback called with Error argument, but there was a problem while retrieving one or more of its " +
        "message, name, and stack",
    };
  }
}

// The log form: enumerable properties kept, `stack` as a list of lines.
function formatted(error) {
  const replacer = (_key, value) => {
    if (!isError(value)) return value;
    const out = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
    if (typeof value.stack === "string") out.stack = awsPaths(value.stack).split("\n");
    return out;
  };
  try {
    return "\t" + JSON.stringify(error, replacer);
  } catch {
    return "\t" + String(error);
  }
}

// ---- the guard against real AWS ------------------------------------------------------------------------

// Handler code never reaches real AWS from the emulator's runtime: host names of AWS's public endpoints are
// refused before they are resolved (Node's http, https, net, tls and fetch all resolve through dns.lookup),
// as the Python worker's audit hook refuses them. The suffixes are emulator/guard.py's.
const AWS_SUFFIXES = [".amazonaws.com", ".amazonaws.com.cn", ".aws.amazon.com", ".api.aws", ".aws"];

function isRealAwsHost(host) {
  const name = String(host).toLowerCase().replace(/\.$/, "");
  return name === "amazonaws.com" || name === "aws.amazon.com" || AWS_SUFFIXES.some((s) => name.endsWith(s));
}

function refusal(host) {
  const error = new Error(
    `pipemu refused a connection to ${host}: real AWS is only reachable with the AWS backend (--backend aws). ` +
      "Use the AWS_ENDPOINT_URL pipemu sets instead of a hard-coded AWS endpoint.",
  );
  error.code = "ECONNREFUSED";
  return error;
}

function guardNetwork() {
  const lookup = dns.lookup;
  dns.lookup = function guardedLookup(hostname, options, callback) {
    if (isRealAwsHost(hostname)) {
      const done = typeof options === "function" ? options : callback;
      process.nextTick(() => done(refusal(hostname)));
      return {};
    }
    return lookup.call(this, hostname, options, callback);
  };
  const promised = dns.promises.lookup;
  dns.promises.lookup = async function guardedLookup(hostname, ...rest) {
    if (isRealAwsHost(hostname)) throw refusal(hostname);
    return promised.call(this, hostname, ...rest);
  };
}

// ---- handler loading ----------------------------------------------------------------------------------

const HANDLER_EXPR = /^([^.]*)\.(.*)$/;

function hasTypeModule(file) {
  // The nearest package.json decides how a .js file loads (https://nodejs.org/api/packages.html#type).
  let dir = path.dirname(file);
  for (;;) {
    const candidate = path.join(dir, "package.json");
    if (fs.existsSync(candidate)) {
      try {
        return JSON.parse(fs.readFileSync(candidate, "utf8")).type === "module";
      } catch {
        return false;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

function requireFile(require, file) {
  return fs.existsSync(file) && fs.statSync(file).isFile() ? require(file) : undefined;
}

async function importFile(file) {
  return fs.existsSync(file) ? import(pathToFileURL(file).href) : undefined;
}

// The order the AWS runtime tries: extensionless, .js (CommonJS unless "type": "module"), .mjs, .cjs, then
// Node's own resolution from the task root.
async function loadModule(moduleRoot, moduleName) {
  const require = createRequire(SELF); // "Require stack: - /var/runtime/index.mjs" in errors, as on AWS
  const base = path.resolve(taskRoot, moduleRoot, moduleName);
  const extensionless = requireFile(require, base);
  if (extensionless !== undefined) return extensionless;
  const esm = hasTypeModule(base + ".js");
  if (!esm) {
    const loaded = requireFile(require, base + ".js");
    if (loaded !== undefined) return loaded;
  }
  const loaded =
    (esm ? await importFile(base + ".js") : undefined) ??
    (await importFile(base + ".mjs")) ??
    requireFile(require, base + ".cjs");
  if (loaded !== undefined) return loaded;
  return require(require.resolve(moduleName, { paths: [taskRoot, path.resolve(taskRoot, moduleRoot)] }));
}

async function loadHandler(fullHandler) {
  if (fullHandler.includes("../")) {
    throw new RuntimeError(
      "Runtime.MalformedHandlerName",
      "'../' not allowed in handler name. Relative paths are not supported.",
    );
  }
  const moduleAndHandler = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(moduleAndHandler));
  const match = moduleAndHandler.match(HANDLER_EXPR);
  if (!match || match.length !== 3) throw new RuntimeError("Runtime.MalformedHandlerName", "Bad handler");
  const [, moduleName, handlerPath] = match;
  let module;
  try {
    module = await loadModule(moduleRoot, moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) throw new RuntimeError("Runtime.UserCodeSyntaxError", String(e));
    if (e && (e.code === "MODULE_NOT_FOUND" || e.code === "ERR_MODULE_NOT_FOUND")) {
      throw new RuntimeError("Runtime.ImportModuleError", awsPaths(String(e)));
    }
    throw e;
  }
  let handler = module;
  for (const part of handlerPath.split(".")) handler = handler == null ? undefined : handler[part];
  if (handler === undefined) {
    throw new RuntimeError("Runtime.HandlerNotFound", `${fullHandler} is undefined or not exported`);
  }
  if (typeof handler !== "function") {
    throw new RuntimeError("Runtime.HandlerNotFound", `${fullHandler} is not a function`);
  }
  return handler;
}

// ---- invocations --------------------------------------------------------------------------------------

let current = null; // the invocation in flight: {settle, pending}
let commands; // the command pipe; unref'd while a handler runs so an empty event loop can be noticed

function maxRssMb() {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

function startInvocation(header, started) {
  let done = false;
  const invocation = {
    pending: null, // a callback result waiting for the event loop to empty
    settle(error, result, fatal = false) {
      if (done) {
        console.error(
          "Invocation has already been reported as done. Cannot call complete more than once per invocation.",
        );
        return;
      }
      done = true;
      invocation.pending = null;
      current = null;
      let body;
      let ok = error == null;
      if (ok) {
        try {
          body = Buffer.from(JSON.stringify(result === undefined ? null : result), "utf8");
        } catch (e) {
          ok = false;
          error = new Error(`Unable to stringify response body: ${e.message}`);
        }
      }
      if (!ok) {
        if (!fatal) console.error("Invoke Error", formatted(error));
        body = Buffer.from(JSON.stringify(errorResponse(error)), "utf8");
      }
      const durationMs = performance.now() - started;
      const header = { ok, duration_ms: durationMs, max_rss_mb: maxRssMb() };
      if (fatal) header.exiting = true;
      send(RESULT, header, body);
      commands.ref();
    },
  };
  current = invocation;
  return invocation;
}

function makeContext(header, invocation) {
  const deadline = Date.now() + header.timeout_ms;
  let waitsForEmptyLoop = true;
  const env = process.env;
  const callback = (error, result) => {
    if (error != null) return invocation.settle(error);
    if (!waitsForEmptyLoop) return invocation.settle(null, result);
    invocation.pending = { result }; // sent from `beforeExit`, as the AWS runtime does
  };
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitsForEmptyLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitsForEmptyLoop = value;
    },
    succeed: (result) => invocation.settle(null, result),
    fail: (error) => invocation.settle(error ?? "handled"),
    done: (error, result) => invocation.settle(error, result),
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: undefined,
    identity: undefined,
    invokedFunctionArn: header.invoked_function_arn,
    awsRequestId: header.request_id,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  return { context, callback };
}

class PipemuInjectedFault extends Error {
  constructor(message) {
    super(message);
    named(this, "PipemuInjectedFault");
  }
}

async function inject(fault, timeoutMs) {
  if (!fault) return;
  if (fault.latency_ms) await new Promise((resolve) => setTimeout(resolve, fault.latency_ms));
  if (fault.kind === "error") throw new PipemuInjectedFault("fault injected by the pipemu scenario (handler error)");
  if (fault.kind === "timeout") await new Promise((resolve) => setTimeout(resolve, timeoutMs + 60000));
  if (fault.kind === "crash") process.kill(process.pid, "SIGKILL");
}

// A fresh X-Ray trace header per invocation, as Lambda sets _X_AMZN_TRACE_ID (the Python worker's format).
function traceHeader() {
  const epoch = Math.floor(Date.now() / 1000).toString(16).padStart(8, "0");
  return `Root=1-${epoch}-${randomBytes(12).toString("hex")};Parent=${randomBytes(8).toString("hex")};Sampled=0`;
}

async function invoke(handler, frame) {
  const started = performance.now();
  const header = frame.header;
  currentRequestId = header.request_id;
  process.env._X_AMZN_TRACE_ID = traceHeader();
  commands.unref(); // now only the handler's own work keeps the event loop alive
  const invocation = startInvocation(header, started);
  let event;
  try {
    event = frame.body.length && frame.body.toString("utf8").trim() ? JSON.parse(frame.body.toString("utf8")) : {};
  } catch (e) {
    return invocation.settle(new RuntimeError("Runtime.UnmarshalError", `Unable to unmarshal input: ${e.message}`));
  }
  const { context, callback } = makeContext(header, invocation);
  try {
    await inject(header.fault, header.timeout_ms);
    const result = handler(event, context, callback);
    if (result && typeof result.then === "function") {
      result.then(
        (value) => invocation.settle(null, value),
        (error) => invocation.settle(error ?? "handled"),
      );
    }
  } catch (e) {
    invocation.settle(e);
  }
}

// The event loop emptied while an invocation was in flight: a callback result waiting for it is sent now;
// a handler that neither returned a promise nor called back gets `null`, as on AWS.
process.on("beforeExit", () => {
  const invocation = current;
  if (invocation === null) return;
  const pending = invocation.pending;
  setImmediate(() => invocation.settle(null, pending ? pending.result : null));
});

// As the AWS runtime: the error is logged, answers the invocation in flight, and the environment exits
// (129 after an uncaught exception, 128 after an unhandled rejection), so the next invocation is a cold start.
function onFatal(label, error, exitCode) {
  console.error(label, formatted(error));
  if (current !== null) current.settle(error, undefined, true);
  process.exit(exitCode);
}

process.on("uncaughtException", (error) => onFatal("Uncaught Exception", error, 129));
process.on("unhandledRejection", (reason) => {
  const error = new RuntimeError("Runtime.UnhandledPromiseRejection", String(reason));
  onFatal("Unhandled Promise Rejection", error, 128);
});

// ---- main ---------------------------------------------------------------------------------------------

async function init() {
  try {
    return await loadHandler(process.env._HANDLER || "");
  } catch (error) {
    const err = isError(error) ? error : new Error(String(error));
    console.error("Uncaught Exception", formatted(err));
    const hint = initHint(err);
    send(INIT_ERROR, { error_type: err.name, hint }, Buffer.from(JSON.stringify(errorResponse(err)), "utf8"));
    process.exit(1);
  }
}

function initHint(error) {
  switch (error.name) {
    case "Runtime.ImportModuleError": {
      let files = [];
      try {
        files = fs.readdirSync(taskRoot).sort();
      } catch {
        // no listing: the hint still names the handler
      }
      return (
        `the handler module (${process.env._HANDLER}) or a package it imports is missing; the deployment ` +
        `package's root holds: ${files.slice(0, 15).join(", ") || "(nothing)"}`
      );
    }
    case "Runtime.HandlerNotFound":
      return "export the handler from the module: `export const handler = ...` or `exports.handler = ...`";
    case "Runtime.MalformedHandlerName":
      return "the handler must be '<file>.<export>', e.g. 'index.handler' for index.js or index.mjs";
    case "Runtime.UserCodeSyntaxError":
      return "fix the syntax error in the handler's module";
    default:
      return "the module threw while loading; check what it does at import time";
  }
}

async function main() {
  patchConsole();
  guardNetwork();
  const handler = await init();
  const reader = new FrameReader();
  commands = new net.Socket({ fd: cmdFd, readable: true, writable: false });
  commands.on("data", (data) => {
    reader.feed(data);
    for (let frame = reader.next(); frame !== null; frame = reader.next()) {
      if (frame.kind === INVOKE) invoke(handler, frame);
    }
  });
  commands.on("end", () => process.exit(0)); // the runtime closed the pipe: shut down
  commands.on("error", () => process.exit(0));
  send(READY);
}

main();
