/**
 * One round trip to the handler (`deploy` after publishing, `doctor`): which version answers, on
 * which Node and architecture, how warm, with how much /tmp. The callers judge the answer.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { performance } from 'node:perf_hooks';
import { PING_REQUEST, PongSchema, type Pong } from '../protocol';

export interface PingAnswer {
  ms: number;
  /** The answer's body, for messages about answers that are not a pong. */
  body: string;
  /** Set when the function itself failed (`FunctionError`). */
  functionError?: string;
  /** The protocol version the answer claims, if it claims one. */
  protocolVersion?: unknown;
  /** The answer, when it is a handler's pong. */
  pong?: Pong;
}

/** Invokes the function with a ping; SDK errors (missing function, no permission, network) are thrown as they are. */
export async function ping(lambda: LambdaClient, functionName: string, qualifier?: string): Promise<PingAnswer> {
  const started = performance.now();
  const output = await lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: qualifier, Payload: Buffer.from(JSON.stringify(PING_REQUEST)) }));
  const ms = performance.now() - started;
  const body = output.Payload ? Buffer.from(output.Payload).toString('utf8') : '';
  const parsed = safeJson(body) as { protocolVersion?: unknown } | undefined;
  const pong = PongSchema.safeParse(parsed);
  return {
    ms,
    body,
    ...(output.FunctionError ? { functionError: output.FunctionError } : {}),
    ...(parsed?.protocolVersion !== undefined ? { protocolVersion: parsed.protocolVersion } : {}),
    ...(pong.success ? { pong: pong.data } : {}),
  };
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
