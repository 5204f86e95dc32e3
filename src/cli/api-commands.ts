// API-client commands: talk to a running Latchkey server over HTTP with an API key, the way an
// integration would (the same public routes as the Seam SDK). Server address from --api-url or
// LATCHKEY_API_URL (default http://127.0.0.1:3000), key from --api-key or SEAM_API_KEY. Tables by default,
// --json everywhere; errors print the server's error type and message (and what its data says) on stderr
// and exit 1.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { instant } from '../api/schemas.ts';
import { parseIsoDuration } from '../domain/time.ts';
import { type BookingRow, parseBookings } from './client/bookings.ts';
import { type EventFilters, fetchEventsSince, tailEvents } from './client/events.ts';
import {
  ApiCallError,
  ApiClient,
  ApiConnectionError,
  CliUsageError,
  resolveApiTarget,
} from './client/http.ts';
import {
  type ApiObject,
  codeKind,
  codeRecord,
  codeRow,
  DENIAL_REASONS,
  deviceRow,
  errorDataLines,
  eventLine,
  eventRow,
  previewText,
} from './client/present.ts';
import { type CodeRequest, createBody, previewCode } from './client/preview.ts';
import { formatRecord, formatTable, printResult } from './output.ts';

interface ApiOpts {
  apiUrl?: string;
  apiKey?: string;
  json?: boolean;
}

/** A subcommand that talks to the server: it takes --api-url, --api-key and --json. */
function apiCommand(parent: Command, nameAndArgs: string, description: string): Command {
  return parent
    .command(nameAndArgs)
    .description(description)
    .option('--api-url <url>', 'server URL (env LATCHKEY_API_URL, default http://127.0.0.1:3000)')
    .option('--api-key <key>', 'API key (env SEAM_API_KEY)')
    .option('--json', 'print JSON');
}

/** Runs a command body with a client; any error is told on stderr and sets exit code 1. */
async function run(opts: ApiOpts, body: (client: ApiClient) => Promise<number | undefined>): Promise<void> {
  try {
    const client = new ApiClient(resolveApiTarget(opts));
    const code = await body(client);
    if (code) process.exitCode = code;
  } catch (error) {
    reportError(error, opts);
    process.exitCode = 1;
  }
}

function reportError(error: unknown, opts: ApiOpts): void {
  if (error instanceof ApiCallError) {
    if (opts.json) {
      const envelope = {
        type: error.type,
        message: error.message,
        status: error.status,
        data: error.data,
        ...(error.predicted ? { predicted: true } : {}),
      };
      console.error(JSON.stringify({ error: envelope }, null, 2));
      return;
    }
    const source = error.predicted ? 'the server would answer ' : '';
    const lines = [`latchkey: ${source}${error.type} (HTTP ${error.status}): ${error.message}`];
    lines.push(...errorDataLines(error.type, error.data).map((l) => `  ${l}`));
    if (error.status === 401) {
      const from = opts.apiKey !== undefined ? '--api-key' : 'SEAM_API_KEY';
      lines.push(`  The key came from ${from}; create one with \`latchkey key create --workspace-id …\`.`);
    }
    console.error(lines.join('\n'));
    return;
  }
  if (error instanceof ApiConnectionError || error instanceof CliUsageError) {
    if (opts.json) {
      const type = error instanceof ApiConnectionError ? 'connection_failed' : 'usage_error';
      const url = error instanceof ApiConnectionError ? { url: error.url } : {};
      console.error(JSON.stringify({ error: { type, message: error.message, ...url } }, null, 2));
    } else console.error(`latchkey: ${error.message}`);
    return;
  }
  throw error;
}

// --- parsing flags ---

function parseSeconds(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !Number.isFinite(n)) {
    throw new CliUsageError(`${what} must be a number of seconds (got "${text}")`);
  }
  return n * 1000;
}

/** An ISO instant with an offset, or an ISO duration counted back from now (`PT1H` = an hour ago). */
function parseSince(text: string, now: number): number {
  const duration = parseIsoDuration(text);
  if (duration !== null && duration >= 0) return now - duration;
  const parsed = instant().safeParse(text);
  if (parsed.success) return parsed.data;
  throw new CliUsageError(
    `--since must be an ISO 8601 instant with an offset (2026-12-01T10:00:00Z) or a duration back from now ` +
      `(PT1H, P2D); got "${text}"`,
  );
}

function eventFilters(opts: { device?: string; type?: string }): EventFilters {
  const types = opts.type
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return { device_id: opts.device, event_types: types };
}

const list = (text: string | undefined) =>
  text
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);

// --- commands ---

export function registerApiCommands(program: Command): void {
  registerDeviceCommands(program);
  registerCodeCommands(program);
  registerSandboxCommands(program);
  registerEventCommands(program);
  registerWebhookCommands(program);
}

function registerDeviceCommands(program: Command): void {
  const device = program.command('device').description('locks of the workspace (API client)');
  apiCommand(device, 'list', 'list devices').action((opts: ApiOpts) =>
    run(opts, async (client) => {
      const devices = await client.listAll<ApiObject>('/devices/list', 'devices');
      printResult(opts, opts.json ? devices : devices.map(deviceRow));
      return 0;
    }),
  );
  apiCommand(device, 'create', 'add a virtual igloohome lock (sandbox)')
    .requiredOption('--name <name>', 'lock name')
    .option('--bridge', 'give it an igloohome bridge (online codes)', false)
    .option('--time-zone <zone>', 'IANA time zone (daily-bound slots follow it)')
    .action((opts: ApiOpts & { name: string; bridge: boolean; timeZone?: string }) =>
      run(opts, async (client) => {
        const { device: created } = await client.call<{ device: ApiObject }>('/devices/simulate/create', {
          name: opts.name,
          has_bridge: opts.bridge,
          time_zone: opts.timeZone,
        });
        printResult(opts, opts.json ? created : deviceRow(created));
        return 0;
      }),
    );
  for (const [name, what] of [
    ['connect', 'bring a sandbox lock’s bridge back on-line'],
    ['disconnect', 'take a sandbox lock’s bridge off-line'],
  ] as const) {
    apiCommand(device, `${name} <device_id>`, what).action((deviceId: string, opts: ApiOpts) =>
      run(opts, async (client) => {
        const answer = await client.call<{ device: ApiObject }>(`/devices/simulate/${name}`, {
          device_id: deviceId,
        });
        printResult(opts, opts.json ? answer.device : deviceRow(answer.device));
        return 0;
      }),
    );
  }
}

interface CreateOpts extends ApiOpts {
  device: string;
  name?: string;
  startsAt?: string;
  endsAt?: string;
  oneTime?: boolean;
  online?: boolean;
  code?: string;
  maxTimeRounding?: string;
  dryRun?: boolean;
}

function registerCodeCommands(program: Command): void {
  const code = program.command('code').description('access codes (API client)');

  apiCommand(code, 'create', 'create an access code: offline algoPIN unless --online; prints a preview first')
    .requiredOption('--device <device_id>', 'the lock')
    .option('--name <name>', 'a name for the code')
    .option('--starts-at <iso>', 'start (ISO 8601 with an offset)')
    .option('--ends-at <iso>', 'end (ISO 8601 with an offset)')
    .option('--one-time', 'one-time-use offline code (24 h from its start hour)')
    .option('--online', 'an online code programmed through the lock’s bridge')
    .option('--code <digits>', 'the PIN of an online code (4–6 digits)')
    .option('--max-time-rounding <setting>', 'the largest rounding accepted: 1h (default) or 1d')
    .option('--dry-run', 'print the preview only, send nothing (exit 1 if the server would refuse)')
    .action((opts: CreateOpts) =>
      run(opts, async (client) => {
        const request: CodeRequest = {
          device_id: opts.device,
          name: opts.name,
          starts_at: opts.startsAt,
          ends_at: opts.endsAt,
          one_time: opts.oneTime,
          online: opts.online,
          code: opts.code,
          max_time_rounding: opts.maxTimeRounding,
        };
        const preview = previewCode(request, Date.now());
        if (opts.dryRun) {
          if (opts.json) console.log(JSON.stringify({ preview }, null, 2));
          else console.log(previewText(preview));
          if (!preview.error) return 0;
          const { status, type, message, data } = preview.error;
          throw new ApiCallError(status, type, message, data, '/access_codes/create', null, true);
        }
        if (!opts.json) console.log(previewText(preview));
        const answer = await client.call<{ access_code: ApiObject; action_attempt: ApiObject }>(
          '/access_codes/create',
          createBody(request),
        );
        if (opts.json) console.log(JSON.stringify({ preview, ...answer }, null, 2));
        else console.log(`\ncreated:\n${formatRecord(codeRecord(answer.access_code))}`);
        return 0;
      }),
    );

  apiCommand(code, 'list', 'list the access codes of a lock')
    .requiredOption('--device <device_id>', 'the lock')
    .action((opts: ApiOpts & { device: string }) =>
      run(opts, async (client) => {
        const codes = await client.listAll<ApiObject>('/access_codes/list', 'access_codes', {
          device_id: opts.device,
        });
        printResult(opts, opts.json ? codes : codes.map(codeRow));
        return 0;
      }),
    );

  apiCommand(code, 'get <access_code_id>', 'show one access code').action((id: string, opts: ApiOpts) =>
    run(opts, async (client) => {
      const { access_code } = await client.call<{ access_code: ApiObject }>('/access_codes/get', {
        access_code_id: id,
      });
      printResult(opts, opts.json ? access_code : codeRecord(access_code));
      return 0;
    }),
  );

  apiCommand(
    code,
    'delete <access_code_id>',
    'delete an online code (offline codes are deleted over Bluetooth)',
  ).action((id: string, opts: ApiOpts) =>
    run(opts, async (client) => {
      const { action_attempt } = await client.call<{ action_attempt: ApiObject }>('/access_codes/delete', {
        access_code_id: id,
      });
      printResult(
        opts,
        opts.json
          ? action_attempt
          : {
              access_code_id: id,
              action: action_attempt.action_type,
              status: action_attempt.status,
              action_attempt_id: action_attempt.action_attempt_id,
            },
      );
      return 0;
    }),
  );

  apiCommand(
    code,
    'import <bookings.csv>',
    'create one code per row of a CSV (name,starts_at,ends_at[,one_time])',
  )
    .requiredOption('--device <device_id>', 'the lock')
    .option('--online', 'online codes instead of offline algoPINs')
    .option('--max-time-rounding <setting>', 'for every row: 1h (default) or 1d')
    .action((file: string, opts: ApiOpts & { device: string; online?: boolean; maxTimeRounding?: string }) =>
      run(opts, async (client) => {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (error) {
          throw new CliUsageError(`cannot read ${file}: ${(error as Error).message}`);
        }
        const rows = parseBookings(text, file);
        const results = await importBookings(client, rows, opts);
        if (opts.json) console.log(JSON.stringify(results, null, 2));
        else {
          console.log(
            formatTable(
              results.map((r) => ({
                row: r.row,
                name: r.name,
                pin: r.pin ?? '',
                kind: r.kind ?? '',
                starts_at: r.starts_at ?? '',
                ends_at: r.ends_at ?? '',
                error: r.error ? `${r.error.type}: ${r.error.message}` : '',
              })),
            ),
          );
          const failed = results.filter((r) => !r.ok).length;
          console.log(`\n${results.length - failed} created, ${failed} failed (of ${results.length} rows)`);
        }
        return results.every((r) => r.ok) ? 0 : 1;
      }),
    );
}

interface ImportResult {
  row: number;
  line: number;
  name: string;
  ok: boolean;
  access_code_id?: string;
  pin?: string | null;
  kind?: string;
  status?: string;
  starts_at?: string | null;
  ends_at?: string | null;
  warnings?: string[];
  error?: { type: string; message: string; status?: number; data?: unknown };
}

/** One request per row, in order; progress on stderr. Stops only if the server cannot be used at all. */
async function importBookings(
  client: ApiClient,
  rows: BookingRow[],
  opts: { device: string; online?: boolean; maxTimeRounding?: string },
): Promise<ImportResult[]> {
  const results: ImportResult[] = [];
  for (const [i, row] of rows.entries()) {
    const progress = `[${i + 1}/${rows.length}] row ${row.row} ${JSON.stringify(row.name)}`;
    const base = { row: row.row, line: row.line, name: row.name };
    if (row.error) {
      results.push({ ...base, ok: false, error: row.error });
      console.error(`${progress}: ${row.error.type}: ${row.error.message}`);
      continue;
    }
    try {
      const { access_code: c } = await client.call<{ access_code: ApiObject }>(
        '/access_codes/create',
        createBody({
          device_id: opts.device,
          name: row.name,
          starts_at: row.starts_at,
          ends_at: row.ends_at,
          one_time: row.one_time,
          online: opts.online,
          max_time_rounding: opts.maxTimeRounding,
        }),
      );
      results.push({
        ...base,
        ok: true,
        access_code_id: c.access_code_id,
        pin: c.code,
        kind: codeKind(c),
        status: c.status,
        starts_at: c.starts_at,
        ends_at: c.ends_at,
        warnings: Array.isArray(c.warnings) ? c.warnings.map((w: ApiObject) => w.warning_code) : [],
      });
      console.error(
        `${progress}: ${c.code} (${codeKind(c)}, ${c.starts_at ?? 'now'} → ${c.ends_at ?? 'no end'})`,
      );
    } catch (error) {
      // Nothing after this could succeed: say so once rather than once per row.
      if (error instanceof ApiConnectionError || (error instanceof ApiCallError && error.status === 401)) {
        console.error(
          `${progress}: stopped; ${results.filter((r) => r.ok).length} codes were created before.`,
        );
        throw error;
      }
      if (!(error instanceof ApiCallError)) throw error;
      results.push({
        ...base,
        ok: false,
        error: { type: error.type, message: error.message, status: error.status, data: error.data },
      });
      console.error(`${progress}: ${error.type}: ${error.message}`);
    }
  }
  return results;
}

function registerSandboxCommands(program: Command): void {
  apiCommand(program, 'keypad <device_id> <pin>', 'type a PIN on a sandbox lock’s keypad').action(
    (deviceId: string, pin: string, opts: ApiOpts) =>
      run(opts, async (client) => {
        const { action_attempt } = await client.call<{ action_attempt: ApiObject }>(
          '/locks/simulate/keypad_code_entry',
          { device_id: deviceId, code: pin },
        );
        const result = action_attempt.result ?? {};
        const outcome = {
          device_id: deviceId,
          pin,
          accepted: result.accepted === true,
          reason_code: result.reason_code ?? null,
          detail: result.detail ?? null,
          action_attempt_id: action_attempt.action_attempt_id,
        };
        if (opts.json) console.log(JSON.stringify(outcome, null, 2));
        else if (outcome.accepted) console.log('accepted: the lock opened');
        else {
          const why = DENIAL_REASONS[outcome.reason_code ?? ''];
          const detail = outcome.detail ? ` (lock: ${outcome.detail})` : '';
          console.log(`refused: ${outcome.reason_code}${why ? ` — ${why}` : ''}${detail}`);
        }
        return 0;
      }),
  );

  const clock = program.command('clock').description('sandbox time travel');
  apiCommand(
    clock,
    'advance <duration>',
    'move the workspace clock forward (ISO 8601 duration, e.g. PT25H)',
  ).action((by: string, opts: ApiOpts) =>
    run(opts, async (client) => {
      const answer = await client.call<{ now: string; workspace: ApiObject }>(
        '/workspaces/simulate/advance_clock',
        {
          by,
        },
      );
      printResult(opts, opts.json ? answer : { advanced_by: by, now: answer.now });
      return 0;
    }),
  );
  apiCommand(
    clock,
    'drift <device_id> <duration>',
    'make a sandbox lock’s clock run ahead (or behind: -PT10M)',
  )
    // A negative duration (-PT10M) must reach the argument, not be read as an unknown option.
    .allowUnknownOption()
    .action((deviceId: string, drift: string, opts: ApiOpts) =>
      run(opts, async (client) => {
        const { virtual_lock } = await client.call<{ virtual_lock: ApiObject }>(
          '/locks/simulate/set_clock_drift',
          {
            device_id: deviceId,
            drift,
          },
        );
        printResult(opts, virtual_lock);
        return 0;
      }),
    );
}

function registerEventCommands(program: Command): void {
  const events = program.command('events').description('the workspace’s events (API client)');
  apiCommand(events, 'list', 'list events, oldest first')
    .option('--since <when>', 'ISO instant, or a duration back from now (PT1H, P2D); default P1D')
    .option('--device <device_id>', 'only this lock')
    .option('--type <types>', 'only these event types (comma-separated)')
    .action((opts: ApiOpts & { since?: string; device?: string; type?: string }) =>
      run(opts, async (client) => {
        const since = parseSince(opts.since ?? 'P1D', Date.now());
        const found = await fetchEventsSince(client, since, eventFilters(opts), new Map());
        printResult(opts, opts.json ? found : found.map(eventRow));
        return 0;
      }),
    );
  apiCommand(events, 'tail', 'print new events as they happen (Ctrl-C stops; --json prints one per line)')
    .option('--since <when>', 'first print the events since then (ISO instant or duration back from now)')
    .option('--device <device_id>', 'only this lock')
    .option('--type <types>', 'only these event types (comma-separated)')
    .option('--interval <seconds>', 'poll every so many seconds', '1')
    .option('--for <seconds>', 'stop by itself after so many seconds')
    .action(
      (opts: ApiOpts & { since?: string; device?: string; type?: string; interval: string; for?: string }) =>
        run(opts, async (client) => {
          const intervalMs = Math.max(100, parseSeconds(opts.interval, '--interval'));
          const forMs = opts.for === undefined ? undefined : parseSeconds(opts.for, '--for');
          const since = opts.since === undefined ? undefined : parseSince(opts.since, Date.now());
          const stop = new AbortController();
          const onSigint = () => stop.abort();
          process.once('SIGINT', onSigint);
          process.once('SIGTERM', onSigint);
          const until = forMs === undefined ? 'Ctrl-C stops' : `for ${forMs / 1000} s`;
          try {
            await tailEvents({
              client,
              filters: eventFilters(opts),
              since,
              intervalMs,
              forMs,
              signal: stop.signal,
              onEvent: (e) => console.log(opts.json ? JSON.stringify(e) : eventLine(e)),
              onReady: () => console.error(`following events at ${client.baseUrl} (${until})`),
            });
          } finally {
            process.off('SIGINT', onSigint);
            process.off('SIGTERM', onSigint);
          }
          return 0;
        }),
    );
}

function registerWebhookCommands(program: Command): void {
  const webhook = program.command('webhook').description('webhooks (API client)');
  apiCommand(webhook, 'create <url>', 'send events to a URL (signed; the secret is printed once)')
    .option('--events <types>', 'event types, comma-separated (default: every event)')
    .action((url: string, opts: ApiOpts & { events?: string }) =>
      run(opts, async (client) => {
        const { webhook: created } = await client.call<{ webhook: ApiObject }>('/webhooks/create', {
          url,
          event_types: list(opts.events),
        });
        printResult(opts, created);
        return 0;
      }),
    );
  apiCommand(webhook, 'list', 'list webhooks').action((opts: ApiOpts) =>
    run(opts, async (client) => {
      const { webhooks } = await client.call<{ webhooks: ApiObject[] }>('/webhooks/list');
      printResult(
        opts,
        opts.json
          ? webhooks
          : webhooks.map((w) => ({
              webhook_id: w.webhook_id,
              url: w.url,
              event_types: w.event_types?.join(', '),
            })),
      );
      return 0;
    }),
  );
  apiCommand(webhook, 'deliveries <webhook_id>', 'recent deliveries of a webhook, newest first')
    .option('--status <status>', 'pending, succeeded or failed')
    .action((webhookId: string, opts: ApiOpts & { status?: string }) =>
      run(opts, async (client) => {
        const { deliveries } = await client.call<{ deliveries: ApiObject[] }>('/webhooks/deliveries/list', {
          webhook_id: webhookId,
          status: opts.status,
        });
        printResult(
          opts,
          opts.json
            ? deliveries
            : deliveries.map((d) => ({
                delivery_id: d.delivery_id,
                event_id: d.event_id,
                status: d.status,
                attempts: d.attempt_count,
                last_status_code: d.last_status_code,
                last_error: d.last_error,
                next_attempt_at: d.next_attempt_at,
                created_at: d.created_at,
              })),
        );
        return 0;
      }),
    );
}
