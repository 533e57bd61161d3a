#!/usr/bin/env node
/**
 * A fault-injecting HTTP proxy in front of the Lambda emulator, as its own process (the tests run
 * Jest synchronously and could not serve it themselves).
 *
 *   node fault-proxy.js <target url> <faults JSON> <log file> [<bodies file>]
 *
 * faults: { "script": ["429", "reset", ...], "then": "pass" }: the n-th invoke gets script[n],
 * later ones get `then`. Each invoke appends one line to the log file: its fault, or for a
 * passed-through invoke `pass:<status of the handler's answer>`. `report` passes the invoke through
 * and adds the log tail Lambda returns with LogType Tail (a REPORT line: 1022 ms billed, 2048 MB).
 * Prints the
 * port it listens on (127.0.0.1) as the first line on stdout.
 *
 * A ping (the runner asks a function it knows nothing about for its platform once, before shipping)
 * passes through uncounted and unlogged: the faults are meant for the run's requests (unless
 * `faultPings`, for doctor, whose every request is a ping).
 *
 * Every passed-through invoke is held to Lambda's synchronous payload limits, which the emulator
 * does not enforce: a request over 6,291,456 bytes gets Lambda's 413, an answer over 6,291,556
 * bytes Lambda's `Function.ResponseSizeTooLarge` error (logged as `pass:request-too-large` and
 * `pass:response-too-large`).
 */
const fs = require('node:fs');
const http = require('node:http');

// (with a bodies file, every request body is appended to it: tests grep what left the machine)
const [target, faultsJson, logFile, bodiesFile] = process.argv.slice(2);
const faults = JSON.parse(faultsJson);
const upstream = new URL(target);
const REQUEST_LIMIT_BYTES = 6_291_456;
const RESPONSE_LIMIT_BYTES = 6_291_556;
let count = 0;

const json = (res, status, headers, body) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (bodiesFile) fs.appendFileSync(bodiesFile, Buffer.concat([...chunks, Buffer.from('\n')]));
    const ping = !faults.faultPings && /"kind"\s*:\s*"ping"/.test(Buffer.concat(chunks).subarray(0, 200).toString('utf8'));
    const fault = ping ? 'pass' : (faults.script[count] ?? faults.then ?? 'pass');
    if (!ping) count++;
    if (fault !== 'pass') fs.appendFileSync(logFile, `${fault}\n`);
    switch (fault) {
      case '429':
        return json(
          res,
          429,
          { 'x-amzn-errortype': 'TooManyRequestsException' },
          { Type: 'User', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', message: 'Rate Exceeded.' },
        );
      case '500':
        return json(res, 500, { 'x-amzn-errortype': 'ServiceException' }, { Type: 'Service', message: 'Internal failure.' });
      case '502':
      case '503':
        res.writeHead(Number(fault), { 'content-type': 'text/html' });
        return res.end('<html><body>Bad Gateway</body></html>');
      case '413':
        return json(
          res,
          413,
          { 'x-amzn-errortype': 'RequestTooLargeException' },
          { Type: 'User', message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation' },
        );
      case 'reset':
        return req.socket.destroy();
      case 'hang':
        return undefined; // never answer; the client's timeout must fire
      case 'unhandled':
        return json(
          res,
          200,
          { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' },
          { errorType: 'Runtime.ExitError', errorMessage: 'RequestId: 1 Error: Runtime exited with error: signal: killed' },
        );
      case 'garbage':
        return json(res, 200, {}, '<<this is not json>>');
      case 'old-protocol':
        return json(res, 200, {}, { protocolVersion: 1, status: 'need-project' });
      default: {
        const requestBytes = Buffer.concat(chunks);
        if (fault === 'pass' && requestBytes.length > REQUEST_LIMIT_BYTES) {
          fs.appendFileSync(logFile, 'pass:request-too-large\n');
          return json(
            res,
            413,
            { 'x-amzn-errortype': 'RequestTooLargeException' },
            { Type: 'User', message: `Request must be smaller than ${REQUEST_LIMIT_BYTES} bytes for the InvokeFunction operation` },
          );
        }
        const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
          const body = [];
          up.on('data', (c) => body.push(c));
          up.on('end', () => {
            let bytes = Buffer.concat(body);
            const headers = { ...up.headers };
            if (fault === 'pass' && up.statusCode === 200 && bytes.length > RESPONSE_LIMIT_BYTES) {
              fs.appendFileSync(logFile, 'pass:response-too-large\n');
              return json(
                res,
                200,
                { 'x-amz-function-error': 'Unhandled' },
                {
                  errorMessage: `Response payload size exceeded maximum allowed payload size (${RESPONSE_LIMIT_BYTES} bytes).`,
                  errorType: 'Function.ResponseSizeTooLarge',
                },
              );
            }
            if (fault === 'report') {
              // what Lambda adds with LogType Tail: the end of the log, with the REPORT line
              const report =
                'START RequestId: 1 Version: $LATEST\nEND RequestId: 1\nREPORT RequestId: 1\tDuration: 1021.50 ms\tBilled Duration: 1022 ms\tMemory Size: 2048 MB\tMax Memory Used: 310 MB\tInit Duration: 412.31 ms\t\n';
              headers['x-amz-log-result'] = Buffer.from(report).toString('base64');
            }
            if (fault === 'pass' && !ping) {
              let status = 'unparsed';
              try {
                status = JSON.parse(bytes.toString('utf8')).status;
              } catch {
                // logged as unparsed
              }
              fs.appendFileSync(logFile, `pass:${status}\n`);
            }
            if (fault === 'truncated') {
              bytes = bytes.subarray(0, Math.floor(bytes.length / 2));
              headers['content-length'] = String(bytes.length);
            }
            res.writeHead(up.statusCode, headers);
            res.end(bytes);
          });
        });
        forward.on('error', (e) => json(res, 502, {}, { message: e.message }));
        forward.end(requestBytes);
      }
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
