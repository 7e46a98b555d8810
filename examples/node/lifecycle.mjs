// Runs the whole origin access identity lifecycle against a cloudfront-facade:
// create -> get -> get config -> update (with the ETag) -> list -> delete -> get (NOT_FOUND),
// and prints the google.rpc.ErrorInfo the facade attached to the failed call. Then the origin
// access control lifecycle: create -> get -> get config -> update -> list -> create the same
// name again (ALREADY_EXISTS, whose ErrorInfo names the taken name) -> delete.
//
//   FACADE_ADDR=127.0.0.1:50051 node lifecycle.mjs
//   FACADE_ADDR=unix:/run/cloudfront-facade/facade.sock node lifecycle.mjs
//
// Environment: FACADE_ADDR (default 127.0.0.1:50051), FACADE_TOKEN_FILE (a file holding the
// bearer token, when the facade requires one), FACADE_DEADLINE_MS (per call, default 10000).
// Exits 0 when every step went as expected, 1 otherwise; the last line printed is a JSON
// summary either way.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROTO_ROOT = path.resolve(HERE, '../../protos');
const PROTO_FILES = [
  'cloudfront/v1/origin_access_identity_service.proto',
  'cloudfront/v1/origin_access_control_service.proto',
];
const ADDRESS = process.env.FACADE_ADDR || '127.0.0.1:50051';
const DEADLINE_MS = Number(process.env.FACADE_DEADLINE_MS || 10_000);
const TOKEN_FILE = process.env.FACADE_TOKEN_FILE || '';

// The service, loaded straight from the .proto: no generated code. Fields are camelCase.
const definition = protoLoader.loadSync(PROTO_FILES, {
  includeDirs: [PROTO_ROOT],
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const { OriginAccessIdentityService, OriginAccessControlService } =
  grpc.loadPackageDefinition(definition).cloudfront.v1;

// Just the three google.rpc / google.protobuf messages needed to read a rich error, declared
// inline (field numbers as in google/rpc/status.proto and google/rpc/error_details.proto).
const richErrors = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: {
              fields: { typeUrl: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } },
            },
          },
        },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: 'int32', id: 1 },
                message: { type: 'string', id: 2 },
                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
              },
            },
            ErrorInfo: {
              fields: {
                reason: { type: 'string', id: 1 },
                domain: { type: 'string', id: 2 },
                metadata: { keyType: 'string', type: 'string', id: 3 },
              },
            },
          },
        },
      },
    },
  },
});
const Status = richErrors.lookupType('google.rpc.Status');
const ErrorInfo = richErrors.lookupType('google.rpc.ErrorInfo');
const ERROR_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.ErrorInfo';

const STATUS_NAMES = Object.fromEntries(
  Object.entries(grpc.status).map(([name, code]) => [code, name]),
);

/** The ErrorInfo in a failed call's grpc-status-details-bin trailer, or null. */
export function errorInfoOf(error) {
  const [raw] = error?.metadata?.get('grpc-status-details-bin') ?? [];
  if (!raw) return null;
  const status = Status.decode(raw);
  for (const detail of status.details) {
    if (detail.typeUrl === ERROR_INFO_TYPE_URL) {
      const info = ErrorInfo.decode(detail.value);
      return { reason: info.reason, domain: info.domain, metadata: { ...info.metadata } };
    }
  }
  return null;
}

class Unexpected extends Error {}

function expect(condition, message) {
  if (!condition) throw new Unexpected(message);
}

function callMetadata() {
  const metadata = new grpc.Metadata();
  if (TOKEN_FILE) metadata.set('authorization', `Bearer ${readFileSync(TOKEN_FILE, 'utf8').trim()}`);
  return metadata;
}

/** One unary call; resolves {response, awsRequestId}, rejects with the gRPC error. */
function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    let outcome;
    let trailers;
    const settle = () => {
      if (outcome === undefined || trailers === undefined) return;
      const [awsRequestId = null] = trailers.get('aws-request-id');
      if (outcome.error) {
        outcome.error.awsRequestId = awsRequestId;
        reject(outcome.error);
      } else {
        resolve({ response: outcome.response, awsRequestId });
      }
    };
    const call = client[method](
      request,
      callMetadata(),
      { deadline: Date.now() + DEADLINE_MS },
      (error, response) => {
        outcome = { error, response };
        settle();
      },
    );
    call.on('status', (status) => {
      trailers = status.metadata;
      settle();
    });
  });
}

function log(step, fields) {
  const text = Object.entries(fields).map(([key, value]) => `${key}=${value}`).join(' ');
  console.log(`${step.padEnd(11)} ${text}`);
}

async function lifecycle(client, steps) {
  const callerReference = `node-example-${Date.now()}-${process.pid}`;
  const state = { id: null, etag: null };

  const created = await unary(client, 'CreateCloudFrontOriginAccessIdentity', {
    cloudFrontOriginAccessIdentityConfig: { callerReference, comment: 'created by examples/node' },
  });
  const identity = created.response.cloudFrontOriginAccessIdentity;
  expect(identity?.id, 'create returned no identity id');
  expect(created.response.etag, 'create returned no ETag');
  Object.assign(state, { id: identity.id, etag: created.response.etag });
  log('create', { id: state.id, etag: state.etag, 'aws-request-id': created.awsRequestId });
  steps.push('create');

  const got = await unary(client, 'GetCloudFrontOriginAccessIdentity', { id: state.id });
  expect(got.response.cloudFrontOriginAccessIdentity.id === state.id, 'get returned another id');
  expect(got.response.etag === state.etag, 'get returned another ETag than create');
  log('get', { id: state.id, etag: got.response.etag });
  steps.push('get');

  const config = await unary(client, 'GetCloudFrontOriginAccessIdentityConfig', { id: state.id });
  const readConfig = config.response.cloudFrontOriginAccessIdentityConfig;
  expect(readConfig.callerReference === callerReference, 'get-config lost the caller reference');
  log('get-config', { comment: JSON.stringify(readConfig.comment), etag: config.response.etag });
  steps.push('get-config');

  const updated = await unary(client, 'UpdateCloudFrontOriginAccessIdentity', {
    id: state.id,
    ifMatch: config.response.etag,
    cloudFrontOriginAccessIdentityConfig: { callerReference, comment: 'updated by examples/node' },
  });
  const newConfig = updated.response.cloudFrontOriginAccessIdentity.cloudFrontOriginAccessIdentityConfig;
  expect(newConfig.comment === 'updated by examples/node', 'update did not store the comment');
  expect(updated.response.etag && updated.response.etag !== state.etag, 'update kept the old ETag');
  state.etag = updated.response.etag;
  log('update', { comment: JSON.stringify(newConfig.comment), etag: state.etag });
  steps.push('update');

  let marker = '';
  let listed = null;
  for (let page = 0; page < 100 && listed === null; page += 1) {
    const { response } = await unary(client, 'ListCloudFrontOriginAccessIdentities', {
      marker,
      maxItems: 100,
    });
    const list = response.cloudFrontOriginAccessIdentityList;
    listed = list.items.find((item) => item.id === state.id) ?? null;
    if (!list.isTruncated) break;
    marker = list.nextMarker;
  }
  expect(listed !== null, 'list did not contain the identity');
  expect(listed.comment === 'updated by examples/node', 'list shows a stale comment');
  log('list', { found: listed.id, comment: JSON.stringify(listed.comment) });
  steps.push('list');

  await unary(client, 'DeleteCloudFrontOriginAccessIdentity', { id: state.id, ifMatch: state.etag });
  const deletedId = state.id;
  state.id = null;
  log('delete', { id: deletedId });
  steps.push('delete');

  try {
    await unary(client, 'GetCloudFrontOriginAccessIdentity', { id: deletedId });
  } catch (error) {
    expect(error.code === grpc.status.NOT_FOUND,
      `get after delete failed with ${STATUS_NAMES[error.code]}, not NOT_FOUND: ${error.details}`);
    const errorInfo = errorInfoOf(error);
    expect(errorInfo !== null, 'the NOT_FOUND error carried no google.rpc.ErrorInfo');
    log('get', { code: STATUS_NAMES[error.code], reason: errorInfo.reason, domain: errorInfo.domain });
    console.log(`ErrorInfo   ${JSON.stringify(errorInfo)}`);
    steps.push('get-deleted');
    return { id: deletedId, notFound: { code: STATUS_NAMES[error.code], message: error.details, errorInfo } };
  } finally {
    // Best effort: never leave an identity behind in a real account after a failed step.
    if (state.id !== null) {
      await unary(client, 'DeleteCloudFrontOriginAccessIdentity', { id: state.id, ifMatch: state.etag })
        .catch(() => {});
    }
  }
  throw new Unexpected('get after delete succeeded');
}

// Enum fields travel as their proto names (enums: String above).
const OAC_CONFIG = {
  signingProtocol: 'ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_SIGV4',
  signingBehavior: 'ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_ALWAYS',
  originAccessControlOriginType: 'ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_S3',
};

async function controlLifecycle(client, steps) {
  const name = `node-example-${Date.now()}-${process.pid}`;
  const state = { id: null, etag: null };
  try {
    const created = await unary(client, 'CreateOriginAccessControl', {
      originAccessControlConfig: { name, description: 'created by examples/node', ...OAC_CONFIG },
    });
    const control = created.response.originAccessControl;
    expect(control?.id, 'create returned no control id');
    expect(created.response.etag, 'create returned no ETag');
    expect(control.originAccessControlConfig.signingBehavior === OAC_CONFIG.signingBehavior,
      'create lost the signing behavior');
    Object.assign(state, { id: control.id, etag: created.response.etag });
    log('oac-create', { id: state.id, etag: state.etag, name });
    steps.push('oac-create');

    const got = await unary(client, 'GetOriginAccessControl', { id: state.id });
    expect(got.response.originAccessControl.id === state.id, 'get returned another id');
    expect(got.response.etag === state.etag, 'get returned another ETag than create');
    log('oac-get', { id: state.id, etag: got.response.etag });
    steps.push('oac-get');

    const config = await unary(client, 'GetOriginAccessControlConfig', { id: state.id });
    expect(config.response.originAccessControlConfig.name === name, 'get-config lost the name');
    log('oac-config', { name, etag: config.response.etag });
    steps.push('oac-get-config');

    const updated = await unary(client, 'UpdateOriginAccessControl', {
      id: state.id,
      ifMatch: config.response.etag,
      originAccessControlConfig: { name, description: 'updated by examples/node', ...OAC_CONFIG },
    });
    const newConfig = updated.response.originAccessControl.originAccessControlConfig;
    expect(newConfig.description === 'updated by examples/node', 'update lost the description');
    expect(updated.response.etag && updated.response.etag !== state.etag, 'update kept the ETag');
    state.etag = updated.response.etag;
    log('oac-update', { description: JSON.stringify(newConfig.description), etag: state.etag });
    steps.push('oac-update');

    // The recovery for a create whose answer was lost: list, find by name, compare config.
    const found = await findByName(client, name);
    expect(found !== null, 'list did not contain the control');
    expect(found.description === 'updated by examples/node', 'list shows a stale description');
    log('oac-list', { found: found.id, name: found.name });
    steps.push('oac-list');

    let taken = null;
    try {
      await unary(client, 'CreateOriginAccessControl', {
        originAccessControlConfig: { name, description: 'a second one', ...OAC_CONFIG },
      });
    } catch (error) {
      expect(error.code === grpc.status.ALREADY_EXISTS,
        `a second create failed with ${STATUS_NAMES[error.code]}, not ALREADY_EXISTS`);
      taken = errorInfoOf(error);
    }
    expect(taken !== null, 'a second create of the same name succeeded');
    expect(taken.metadata.name === name, 'the ALREADY_EXISTS ErrorInfo does not name the name');
    log('oac-taken', { code: 'ALREADY_EXISTS', reason: taken.reason, name: taken.metadata.name });
    steps.push('oac-already-exists');

    await unary(client, 'DeleteOriginAccessControl', { id: state.id, ifMatch: state.etag });
    const deletedId = state.id;
    state.id = null;
    log('oac-delete', { id: deletedId });
    steps.push('oac-delete');
    return { id: deletedId, alreadyExists: taken };
  } finally {
    if (state.id !== null) {
      await unary(client, 'DeleteOriginAccessControl', { id: state.id, ifMatch: state.etag })
        .catch(() => {});
    }
  }
}

/** The summary of the control named `name`, paging through the list; null if absent. */
async function findByName(client, name) {
  let marker = '';
  for (let page = 0; page < 100; page += 1) {
    const { response } = await unary(client, 'ListOriginAccessControls', { marker, maxItems: 100 });
    const list = response.originAccessControlList;
    const found = list.items.find((item) => item.name === name);
    if (found) return found;
    if (!list.isTruncated) return null;
    marker = list.nextMarker;
  }
  return null;
}

async function main() {
  const client = new OriginAccessIdentityService(ADDRESS, grpc.credentials.createInsecure());
  const controls = new OriginAccessControlService(ADDRESS, grpc.credentials.createInsecure());
  const steps = [];
  try {
    const result = await lifecycle(client, steps);
    const oac = await controlLifecycle(controls, steps);
    console.log(JSON.stringify({ ok: true, address: ADDRESS, steps, ...result, oac }));
    return 0;
  } catch (error) {
    const summary = { ok: false, address: ADDRESS, steps, error: error.message };
    if (!(error instanceof Unexpected) && error.code !== undefined) {
      Object.assign(summary, { code: STATUS_NAMES[error.code], errorInfo: errorInfoOf(error) });
    }
    console.log(JSON.stringify(summary));
    return 1;
  } finally {
    client.close();
    controls.close();
  }
}

process.exitCode = await main();
