/**
 * Entry point of one embedded-backend worker process: the same handler code as in Lambda,
 * fed over Node's IPC channel instead of an HTTP invoke. One request at a time.
 */
import { WorkerInboundSchema, parseAt, type WorkerOutbound } from '../src/protocol';
import { execute } from './execute';

// A test process should look like a plain Jest worker: no runner flags in argv.
process.argv = [process.argv[0]!, process.argv[1]!];

// No send callback: Node delivers it with process.nextTick, which changes how the test's own
// promise continuations resume and adds a `processTicksAndRejections` frame to their stacks.
const send = (message: WorkerOutbound) => void process.send!(message);

let queue = Promise.resolve();

process.on('message', (raw: unknown) => {
  const message = parseAt(WorkerInboundSchema, raw, 'worker message');
  queue = queue.then(async () => {
    const { id, request } = message;
    const response = await execute(request, {
      root: { kind: 'prepared' },
      onEvent: (event) => send({ type: 'event', id, event }),
    });
    send({ type: 'response', id, response, heapUsed: process.memoryUsage().heapUsed });
  });
});

process.on('disconnect', () => process.exit(0));

send({ type: 'ready', pid: process.pid });
