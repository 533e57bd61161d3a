/**
 * Which execution environment answered (a Lambda container, a local worker process, the Jest
 * process itself in band), and whether it had answered for a file before: the run's timeline
 * draws one lane per environment and marks its first file cold.
 */
import crypto from 'node:crypto';
import type { RunResponse } from '../src/protocol';

const ID = crypto.randomBytes(4).toString('hex');
let filesAnswered = 0;

/** `response` with this environment's id, the files it had answered before this request, and the size of its tree. */
export function stamped(response: RunResponse, treeBytes?: number): RunResponse {
  const environment = { id: ID, pid: process.pid, filesBefore: filesAnswered, ...(treeBytes !== undefined ? { treeBytes } : {}) };
  if (response.status === 'completed' || response.status === 'failed') filesAnswered++;
  else if (response.status === 'batch') filesAnswered += response.results.length;
  return { ...response, environment };
}
