/**
 * DynamoDB Local is reachable from this machine only (docs/security.md "Local mode"): the
 * loopback launcher binds it to 127.0.0.1, so a connection to any other address of the
 * machine is refused, and answers only loopback Host names, so a web page cannot reach it by
 * DNS rebinding (DynamoDB Local accepts any signature).
 */
import { readFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../../infra/local/dynamodb-local.ts';

/** Resolves 'connected' or the error code of a TCP connection attempt. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('ETIMEDOUT');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

/** Local addresses of the sockets listening on `port` (Linux /proc/net/tcp{,6}, hex as the kernel writes them). */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6']
    .filter((file) => existsSync(file))
    .flatMap((file) => readFileSync(file, 'utf8').split('\n').slice(1))
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A') // 0A = LISTEN
    .map((fields) => fields[1]!.slice(0, -5));
}

const LOOPBACK = new Set(['0100007F', '0000000000000000FFFF00000100007F', '00000000000000000000000001000000']);

describe('DynamoDB Local', () => {
  let db: DynamoDbLocal;
  beforeAll(async () => {
    db = await startDynamoDbLocal({ tableName: 'loopback-test', inMemory: true, dataDir: '' });
  }, 90_000);
  afterAll(async () => {
    await db?.stop();
  });

  it('listens on 127.0.0.1 only: loopback connects, every other address of this machine is refused', async () => {
    expect(db.loopbackOnly).toBe(true);
    expect(await tryConnect('127.0.0.1', db.port)).toBe('connected');

    // link-local IPv6 addresses need a scope id to be dialled at all: left out
    const others = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal && !a.address.startsWith('fe80:')).map((a) => a!.address);
    for (const address of others) expect([address, await tryConnect(address, db.port)]).toEqual([address, 'ECONNREFUSED']);

    const listening = listeningAddresses(db.port);
    for (const address of listening) expect(LOOPBACK.has(address)).toBe(true);
    // at least one of the two checks ran on this machine (a network interface or /proc)
    expect(others.length + listening.length).toBeGreaterThan(0);
  });

  it('answers only loopback Host names: a rebound name gets 421 and never reaches the table', async () => {
    const scan = (host: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: db.port });
      const body = JSON.stringify({ TableName: 'loopback-test' });
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
      socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0), body: answer.split('\r\n\r\n').slice(1).join('\r\n\r\n') }));
      socket.on('error', reject);
      socket.end([
        'POST / HTTP/1.1', `Host: ${host}`, 'Connection: close', 'Content-Type: application/x-amz-json-1.0',
        'X-Amz-Target: DynamoDB_20120810.Scan', 'X-Amz-Date: 20261207T000000Z',
        'Authorization: AWS4-HMAC-SHA256 Credential=x/20261207/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=abc',
        `Content-Length: ${Buffer.byteLength(body)}`, '', body,
      ].join('\r\n'));
    });
    for (const host of [`evil.example:${db.port}`, `127.0.0.1.evil.example:${db.port}`, `localhost.evil:${db.port}`, `x.localhost:${db.port}`]) {
      const refused = await scan(host);
      expect([host, refused.status]).toEqual([host, 421]);
      expect(refused.body).not.toContain('Items');
    }
    // an empty Host is not HTTP/1.1: Jetty refuses it before any handler (400)
    const empty = await scan('');
    expect(empty.status).toBe(400);
    expect(empty.body).not.toContain('Items');
    for (const host of [`127.0.0.1:${db.port}`, `localhost:${db.port}`, 'localhost']) {
      const served = await scan(host);
      expect([host, served.status]).toEqual([host, 200]);
      expect(JSON.parse(served.body)).toMatchObject({ Items: expect.any(Array) });
    }
  });
});
