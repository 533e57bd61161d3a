/**
 * Least-privilege IAM policies for the three parties: whoever runs `npx jest` (invoke the function,
 * use the bucket's prefix), the function's own role (write its logs, read packs, write answers too
 * large to return), and whoever deploys (manage this one function and pass its role).
 */

export interface PolicyTarget {
  functionName: string;
  region: string;
  /** 12 digits, or a placeholder the user fills in. */
  account: string;
  roleName: string;
  bucket?: string;
  bucketPrefix: string;
}

type Statement = { Sid: string; Effect: 'Allow'; Action: string | string[]; Resource: string | string[]; Condition?: unknown };
export type PolicyDocument = { Version: '2012-10-17'; Statement: Statement[] };

const doc = (statements: Statement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });

export function functionArn(t: PolicyTarget): string {
  return `arn:aws:lambda:${t.region}:${t.account}:function:${t.functionName}`;
}

export function roleArn(t: PolicyTarget): string {
  return `arn:aws:iam::${t.account}:role/${t.roleName}`;
}

function bucketStatements(t: PolicyTarget, side: 'caller' | 'function'): Statement[] {
  if (!t.bucket) return [];
  const objects = (sub: string) => `arn:aws:s3:::${t.bucket}/${t.bucketPrefix}${sub}`;
  // ListBucket turns a missing object into 404 instead of 403: the side that reads tells
  // "not there yet" from "not allowed" by it.
  const list: Statement = {
    Sid: 'ListStorePrefix',
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: `arn:aws:s3:::${t.bucket}`,
    Condition: { StringLike: { 's3:prefix': [`${t.bucketPrefix}*`] } },
  };
  if (side === 'caller') {
    return [
      { Sid: 'UploadAndCheckPacks', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objects('packs/*') },
      { Sid: 'TakeLargeResults', Effect: 'Allow', Action: ['s3:GetObject', 's3:DeleteObject'], Resource: objects('results/*') },
      list,
    ];
  }
  return [
    { Sid: 'ReadPacks', Effect: 'Allow', Action: 's3:GetObject', Resource: objects('packs/*') },
    { Sid: 'WriteLargeResults', Effect: 'Allow', Action: 's3:PutObject', Resource: objects('results/*') },
    // Jest transform cache files one environment made, for the others (handler/transforms.ts)
    { Sid: 'ShareTransforms', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objects('transforms/*') },
    list,
  ];
}

/** For developers and CI running `npx jest` with the lambda backend. */
export function callerPolicy(t: PolicyTarget): PolicyDocument {
  const fn = functionArn(t);
  return doc([{ Sid: 'InvokeTestFunction', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [fn, `${fn}:*`] }, ...bucketStatements(t, 'caller')]);
}

/** The function's execution role: its own logs, and the bucket's prefix. */
export function functionRolePolicy(t: PolicyTarget): PolicyDocument {
  return doc([
    {
      Sid: 'CreateLogGroup',
      Effect: 'Allow',
      Action: 'logs:CreateLogGroup',
      Resource: `arn:aws:logs:${t.region}:${t.account}:log-group:/aws/lambda/${t.functionName}`,
    },
    {
      Sid: 'WriteLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: `arn:aws:logs:${t.region}:${t.account}:log-group:/aws/lambda/${t.functionName}:*`,
    },
    ...bucketStatements(t, 'function'),
  ]);
}

export const LAMBDA_TRUST_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
} as const;

/** For whoever runs `npx jest-runner-remote-lambda deploy`. */
export function deployerPolicy(t: PolicyTarget): PolicyDocument {
  const fn = functionArn(t);
  return doc([
    {
      Sid: 'ManageTestFunction',
      Effect: 'Allow',
      Action: [
        'lambda:GetFunction',
        'lambda:CreateFunction',
        'lambda:UpdateFunctionCode',
        'lambda:UpdateFunctionConfiguration',
        'lambda:PublishVersion',
        'lambda:GetAlias',
        'lambda:CreateAlias',
        'lambda:UpdateAlias',
        'lambda:InvokeFunction',
      ],
      Resource: [fn, `${fn}:*`],
    },
    { Sid: 'ManageItsRole', Effect: 'Allow', Action: ['iam:GetRole', 'iam:CreateRole', 'iam:PutRolePolicy'], Resource: roleArn(t) },
    {
      Sid: 'PassItsRole',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: roleArn(t),
      Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
    },
  ]);
}
