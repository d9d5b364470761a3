#!/usr/bin/env node
// A WatermelonDB app without a UI: the real @nozbe/watermelondb (LokiJS adapter, in memory) syncing with an
// sbsync server through synchronize(), driven by JSON commands, one per line on stdin, each answered by
// one JSON line on stdout. The e2e tests (e2e/test_watermelon.py) drive it and assert on the database it
// returns.
//
//   node client.js <watermelon sync URL> <token> [organization slug]
//
// The app's schema is built from the server's schema endpoint (<sync URL>schema/), as a client author
// would generate it. Commands:
//   {"op": "sync"}                                     synchronize() once
//   {"op": "sync", "pauseBeforePush": true}            the same, but before pushing it writes
//                                                      {"paused": true} and waits for {"op": "continue"}
//   {"op": "sync", "maxRecords": n}                    synchronize() in parts of n records, again while
//                                                      the server says has_more; answers every part
//   {"op": "create", "table": t, "values": {...}}      create a record offline; answers its id
//   {"op": "update", "table": t, "id": i, "values": {...}}
//   {"op": "delete", "table": t, "id": i}              markAsDeleted (pushed by the next sync)
//   {"op": "dump"}                                     every table's raw records, sorted by id
//   {"op": "unsynced"}                                 hasUnsyncedChanges()
// Every answer carries "console": what WatermelonDB logged as errors or warnings meanwhile (it reports
// protocol mistakes such as "Server wants client to create record ..., but it already exists" there).

'use strict'

const readline = require('node:readline')

// WatermelonDB logs through console.log; stdout carries our answers only.
const logged = []
console.log = (...args) => process.stderr.write(`${args.map(String).join(' ')}\n`)
console.debug = console.log
console.info = console.log
console.warn = (...args) => logged.push(`warn: ${args.map(String).join(' ')}`)
console.error = (...args) => logged.push(`error: ${args.map(String).join(' ')}`)

const { Database, Model, appSchema, tableSchema, Q } = require('@nozbe/watermelondb')
const LokiJSAdapter = require('@nozbe/watermelondb/adapters/lokijs').default
const { schemaMigrations } = require('@nozbe/watermelondb/Schema/migrations')
const { synchronize, hasUnsyncedChanges } = require('@nozbe/watermelondb/sync')
const { setGenerator } = require('@nozbe/watermelondb/utils/common/randomId')

// The demo's customers have UUID primary keys: new records get UUIDs, as sbsync's docs tell apps to do.
setGenerator(() => require('node:crypto').randomUUID())

const [syncUrl, token, organization] = process.argv.slice(2)
if (!syncUrl || !token) {
  process.stderr.write('usage: node client.js <watermelon sync URL> <token> [organization slug]\n')
  process.exit(2)
}

class HttpError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}: ${JSON.stringify(body)}`)
    this.status = status
    this.body = body
  }
}

function headers() {
  const result = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }
  if (organization) {
    result['X-Sync-Organization'] = organization
  }
  return result
}

async function call(url, options = {}) {
  const response = await fetch(url, { ...options, headers: headers() })
  const text = await response.text()
  let body
  try {
    body = JSON.parse(text)
  } catch (error) {
    body = text
  }
  if (!response.ok) {
    throw new HttpError(response.status, body)
  }
  return body
}

async function openDatabase() {
  const served = await call(`${syncUrl}schema/`)
  const schema = appSchema({ version: 1, tables: served.tables.map((table) => tableSchema(table)) })
  const modelClasses = served.tables.map(({ name }) => {
    const cls = class extends Model {}
    cls.table = name
    return cls
  })
  const adapter = new LokiJSAdapter({
    schema,
    migrations: schemaMigrations({ migrations: [] }), // migration syncs need a migrations spec
    useWebWorker: false,
    useIncrementalIndexedDB: true, // no IndexedDB in Node: LokiJS falls back to memory
    dbName: 'sbsync-e2e',
  })
  return new Database({ adapter, modelClasses })
}

// Lines of stdin, read on demand: by the command loop, and by a sync paused before its push.
const queue = []
const waiting = []
function nextLine() {
  return queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve) => waiting.push(resolve))
}

async function sync(database, { pauseBeforePush = false, maxRecords = null } = {}) {
  const log = {}
  let hasMore = false
  await synchronize({
    database,
    log,
    migrationsEnabledAtVersion: 1,
    pullChanges: async ({ lastPulledAt, schemaVersion, migration }) => {
      const params = new URLSearchParams({
        last_pulled_at: String(lastPulledAt),
        schema_version: String(schemaVersion),
        migration: JSON.stringify(migration),
      })
      if (maxRecords) {
        params.set('max_records', String(maxRecords))
      }
      const { changes, timestamp, experimentalStrategy, has_more: more } = await call(`${syncUrl}?${params}`)
      hasMore = Boolean(more)
      return { changes, timestamp, experimentalStrategy }
    },
    pushChanges: async ({ changes, lastPulledAt }) => {
      if (pauseBeforePush) {
        process.stdout.write(`${JSON.stringify({ paused: true })}\n`)
        const line = await nextLine()
        if (line === null || JSON.parse(line).op !== 'continue') {
          throw new Error('expected {"op": "continue"}')
        }
      }
      await call(`${syncUrl}?last_pulled_at=${lastPulledAt}`, {
        method: 'POST',
        body: JSON.stringify({ changes, lastPulledAt }),
      })
    },
  })
  return {
    hasMore,
    lastPulledAt: log.lastPulledAt ?? null,
    newLastPulledAt: log.newLastPulledAt,
    remoteChangeCount: log.remoteChangeCount,
    localChangeCount: log.localChangeCount ?? 0,
    resolvedConflicts: (log.resolvedConflicts || []).length,
  }
}

function assign(record, values) {
  Object.entries(values).forEach(([column, value]) => record._setRaw(column, value))
}

async function dump(database) {
  const tables = {}
  for (const table of Object.keys(database.schema.tables).sort()) {
    const records = await database.get(table).query(Q.sortBy('id', Q.asc)).fetch()
    tables[table] = records.map((record) => ({ ...record._raw }))
  }
  return tables
}

async function run(database, command) {
  switch (command.op) {
    case 'sync': {
      const parts = [await sync(database, command)]
      while (parts[parts.length - 1].hasMore) {
        parts.push(await sync(database, command))
      }
      return { sync: parts[parts.length - 1], parts }
    }
    case 'create': {
      const record = await database.write(() =>
        database.get(command.table).create((r) => assign(r, command.values)),
      )
      return { id: record.id }
    }
    case 'update': {
      const record = await database.get(command.table).find(command.id)
      await database.write(() => record.update((r) => assign(r, command.values)))
      return { id: record.id }
    }
    case 'delete': {
      const record = await database.get(command.table).find(command.id)
      await database.write(() => record.markAsDeleted())
      return { id: record.id }
    }
    case 'dump':
      return { tables: await dump(database) }
    case 'unsynced':
      return { unsynced: await hasUnsyncedChanges({ database }) }
    default:
      throw new Error(`unknown op ${JSON.stringify(command.op)}`)
  }
}

async function main() {
  const database = await openDatabase()
  process.stdout.write(`${JSON.stringify({ ok: true, ready: true, console: logged.splice(0) })}\n`)
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  lines.on('line', (line) => (waiting.length ? waiting.shift()(line) : queue.push(line)))
  lines.on('close', () => {
    queue.push(null)
    waiting.splice(0).forEach((resolve) => resolve(null))
  })
  for (let line = await nextLine(); line !== null; line = await nextLine()) {
    if (!line.trim()) {
      continue
    }
    let answer
    try {
      answer = { ok: true, ...(await run(database, JSON.parse(line))) }
    } catch (error) {
      answer = { ok: false, error: String(error.message || error) }
      if (error instanceof HttpError) {
        answer.status = error.status
        answer.body = error.body
      }
    }
    answer.console = logged.splice(0)
    process.stdout.write(`${JSON.stringify(answer)}\n`)
  }
  process.exit(0) // LokiJS keeps an autosave timer running
}

main().catch((error) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(error.stack || error), console: logged })}\n`)
  process.exit(1)
})
