/**
 * Which backend and delivery a run uses, and the watch-mode cache: a watch session's runs share
 * one (warm workers or containers, what the store is known to hold), closed when the session ends.
 */
import type { RunSettings } from '../options';
import { InPlaceDelivery, LocalStoreDelivery, type Delivery } from '../ship/delivery';
import { LocalBackend, localStoreDir } from './local/pool';
import type { Backend } from './types';

export interface Connection {
  backend: Backend;
  delivery: Delivery;
}

const connections = new Map<string, Connection>();

export function connect(settings: RunSettings): Connection {
  const { options, cacheDir, workers, jest } = settings;
  const key = JSON.stringify([
    options.backend,
    cacheDir,
    workers,
    jest.forceColor,
    options.function,
    options.qualifier,
    options.bucket,
    options.bucketPrefix,
    settings.inPlace,
  ]);
  let connection = connections.get(key);
  if (!connection) {
    connection = settings.remote ? lambda(settings) : local(settings);
    connections.set(key, connection);
  }
  return connection;
}

/** Ends a run: the connection is closed unless a watch session keeps it for its next run. */
export async function disconnect(connection: Connection, keep: boolean): Promise<void> {
  if (keep) return;
  for (const [key, c] of connections) if (c === connection) connections.delete(key);
  await connection.backend.close();
}

function local({ cacheDir, workers, jest, inPlace, workerIdleMemoryLimit }: RunSettings): Connection {
  return {
    backend: new LocalBackend({ workers, cacheDir, forceColor: jest.forceColor, workerIdleMemoryLimit }),
    delivery: inPlace ? new InPlaceDelivery() : new LocalStoreDelivery(localStoreDir(cacheDir)),
  };
}

function lambda({ options, cacheDir }: RunSettings): Connection {
  // Loaded only when used: the AWS SDK costs a few hundred milliseconds to load.
  const { LambdaBackend } = require('./lambda/invoke') as typeof import('./lambda/invoke');
  const { RemoteDelivery } = require('../ship/remote') as typeof import('../ship/remote');
  return {
    backend: new LambdaBackend({
      functionName: options.function!,
      qualifier: options.qualifier,
      region: options.region,
      invokeTimeoutMs: options.invokeTimeoutMs,
      cacheDir,
    }),
    delivery: new RemoteDelivery({
      cacheDir,
      store: options.bucket ? { kind: 's3', bucket: options.bucket, prefix: options.bucketPrefix, region: options.region } : undefined,
    }),
  };
}
