// Runs one state machine execution with aws-local-stepfunctions, every Task
// state calling crmbackup's Go handlers through the local stack's Lambda
// invoke endpoint. Reads its job as JSON on stdin:
//   {definition, input, tasks: {stateName: functionName}, invokeURL, retryIntervalMs}
// and prints one JSON line: {status: "SUCCEEDED", output} or {status: "FAILED", error, cause}.
'use strict';

// aws-local-stepfunctions 3 targets Node 22; Node 20 lacks this one API.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

const { StateMachine } = require('aws-local-stepfunctions');

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function invoker(url, fn) {
  return async (input) => {
    const res = await fetch(`${url}/${fn}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    const text = await res.text();
    const body = text ? JSON.parse(text) : null;
    if (!res.ok) {
      // As on AWS, the catching state's Cause is the function's error
      // payload as a JSON string ({"errorMessage", "errorType"}), its Error
      // the errorType.
      const fnError = body && body.errorType;
      const err = new Error(fnError ? text : `invoke ${fn}: HTTP ${res.status}`);
      err.name = fnError || 'Lambda.ServiceException';
      throw err;
    }
    return body;
  };
}

(async () => {
  const job = await readStdin();
  const handlers = {};
  const retries = {};
  for (const [state, fn] of Object.entries(job.tasks)) {
    handlers[state] = invoker(job.invokeURL, fn);
    if (job.retryIntervalMs !== undefined) retries[state] = job.retryIntervalMs;
  }
  const machine = new StateMachine(job.definition);
  const execution = machine.run(job.input, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: retries },
  });
  try {
    const output = await execution.result;
    process.stdout.write(JSON.stringify({ status: 'SUCCEEDED', output }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ status: 'FAILED', error: e.name, cause: e.message }) + '\n');
  }
})().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(2);
});
