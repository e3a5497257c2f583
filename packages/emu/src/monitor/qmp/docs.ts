/**
 * docs/qmp.md, generated from the command and event declarations so that the reference cannot
 * drift from the code: docs.test.ts compares the file with this output (and rewrites it when run
 * with TSEMU_UPDATE_DOCS=1).
 */
import { QMP_COMMANDS } from './commands.js';
import { QMP_EVENTS } from './events.js';
import type { CommandDecl, EventDecl, Member, QType } from './schema.js';
import { typeName } from './schema.js';

const INTRO = `# QMP reference

<!-- Generated from packages/emu/src/monitor/qmp (commands.ts, events.ts) by docs.ts.
     Do not edit: change the declarations, then run
     TSEMU_UPDATE_DOCS=1 npx vitest run packages/emu/src/monitor/qmp/docs.test.ts -->

tsemu speaks QEMU's Machine Protocol (QMP) as QEMU 7.2 does, on any chardev:
\`-qmp unix:PATH,server=on,wait=off\`, \`-qmp tcp:HOST:PORT,server=on\`,
\`-chardev socket,id=ID,path=PATH -mon chardev=ID,mode=control\` (tsemu connects as a client, as
libqtest expects), \`-qmp stdio\`, or through the \`mon:stdio\` mux. Each \`-qmp\` is a separate
server; every connected client gets every event.

## Protocol

- On connection the server greets:
  \`{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "tsemu X.Y.Z"}, "capabilities": ["oob"]}}\`.
  \`qemu\` is the QEMU release whose interfaces tsemu follows (7.2.0), so that tools that check
  QEMU's version accept tsemu; \`package\` is tsemu's own version.
- Negotiation: only \`qmp_capabilities\` (optionally \`{"enable": ["oob"]}\`) is accepted first;
  other commands fail with \`CommandNotFound\` "Expecting capabilities negotiation with
  'qmp_capabilities'". Events are sent only after negotiation. A reconnecting client is greeted
  again and negotiates again.
- Requests: \`{"execute": NAME, "arguments": {...}, "id": ANY}\`; \`id\` (any JSON value) is
  echoed in the \`return\` or \`error\` reply. With \`oob\` enabled, \`{"exec-oob": NAME, ...}\` runs
  at once even while an in-band command is still running, for the commands marked *out of band*
  below; others fail with "The command NAME does not support OOB".
- Errors: \`{"error": {"class": CLASS, "desc": TEXT}}\` with QEMU's classes (\`GenericError\`,
  \`CommandNotFound\`, \`DeviceNotFound\`) and texts (\`Parameter 'path' is missing\`, \`Invalid
  parameter type for 'x', expected: string\`, \`Parameter 'y' is unexpected\`, \`Device 'X' not
  found\`).
- Input is parsed as a stream, like QEMU's parser: messages may be split across reads or share
  one; single-quoted strings are accepted. Malformed JSON is answered with \`GenericError\`
  "JSON parse error, ..." and the parser resynchronises at the next structural or control
  character (send \`\\n\` to be sure). A message over 64 MiB, with over 2 Mi tokens or nested over
  1024 levels is answered with "JSON token size limit exceeded" (or token count / nesting depth)
  and skipped. The connection stays open in every case.
- Output: one JSON message per line, \`\\r\\n\`-terminated, ASCII (\`\\uXXXX\` escapes).
- Events: \`{"timestamp": {"seconds": S, "microseconds": U}, "event": NAME, "data": {...}}\`,
  sent before the \`return\` of the command that caused them (\`cont\` → RESUME, then \`{"return":
  {}}\`; \`quit\` → SHUTDOWN, then the return, then the process exits with status 0).
- \`query-qmp-schema\` returns QEMU's SchemaInfo list; type names are readable (QEMU masks them
  with numbers; clients must treat them as opaque either way).

## micro:bit board control

Board inputs can be set in two ways:

- the dedicated commands below (\`microbit-button\`, \`microbit-set-accelerometer\`,
  \`microbit-set-compass\`, \`microbit-set-pin\`, \`microbit-set-temperature\`,
  \`microbit-set-light-level\`, and \`query-microbit\` to read the board's state). They are
  tsemu's own interface (QEMU has no micro:bit board commands), named \`microbit-*\` without
  QEMU's \`x-\` experimental prefix because they are supported, and exist only on the micro:bit;
- \`qom-set\` on the board's objects, for their run-time properties:
  \`{"execute": "qom-set", "arguments": {"path": "/machine/button-a", "property": "pressed", "value": true}}\`.

The display's output comes as the \`MICROBIT_DISPLAY\` event and as \`screendump\`. \`input-send-event\`
maps keys \`a\` and \`b\` to buttons A and B, for user interfaces. The serial port is not a QMP
event: connect it with \`-serial\`.
`;

function typeRef(type: QType): string {
  switch (type.kind) {
    case 'builtin':
      return type.name;
    case 'array':
      return `[${typeRef(type.element)}]`;
    case 'enum':
      return type.values.map((v) => `'${v}'`).join(' \\| ');
    default:
      return typeName(type);
  }
}

function membersTable(members: Readonly<Record<string, Member>>): string[] {
  const rows = ['| Name | Type | Required | Description |', '|---|---|---|---|'];
  for (const [name, m] of Object.entries(members)) {
    rows.push(`| \`${name}\` | ${typeRef(m.type)} | ${m.optional ? 'no' : 'yes'} | ${m.description ?? ''} |`);
  }
  return rows;
}

function describeObjects(roots: QType[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const visit = (t: QType): void => {
    if (t.kind === 'array') {
      visit(t.element);
      return;
    }
    if (t.kind === 'object' || t.kind === 'union') {
      if (seen.has(t.name)) return;
      seen.add(t.name);
      if (t.kind === 'object') {
        out.push(
          '',
          `**${t.name}**${t.description ? `: ${t.description}` : ''}`,
          '',
          ...membersTable(t.members),
        );
        for (const m of Object.values(t.members)) visit(m.type);
      } else {
        out.push('', `**${t.name}**: selected by \`type\`:`, '');
        for (const [c, v] of Object.entries(t.variants)) {
          out.push(
            `- \`${c}\`: ${Object.keys(v.members)
              .map((k) => `\`${k}\``)
              .join(', ')} (${v.name})`,
          );
        }
        for (const v of Object.values(t.variants)) visit(v);
      }
    }
  };
  for (const t of roots) visit(t);
  return out;
}

function commandSection(c: CommandDecl): string[] {
  const out = ['', `### ${c.name}`, '', c.description];
  const flags: string[] = [];
  if (c.allowOob) flags.push('out of band allowed');
  if (c.machine) flags.push(`machine \`${c.machine}\` only`);
  if (c.negotiation) flags.push('allowed before negotiation');
  if (flags.length > 0) out.push('', `*${flags.join('; ')}*`);
  if (c.notes) out.push('', c.notes);
  out.push('', 'Arguments:', '');
  if (c.args && Object.keys(c.args.members).length > 0) out.push(...membersTable(c.args.members));
  else out.push('none');
  out.push('', `Returns: ${c.returns ? typeRef(c.returns) : '`{}`'}`);
  const nested: QType[] = [];
  if (c.args) nested.push(...Object.values(c.args.members).map((m) => m.type));
  if (c.returns) nested.push(c.returns);
  out.push(...describeObjects(nested));
  return out;
}

function eventSection(e: EventDecl): string[] {
  const out = ['', `### ${e.name}`, '', e.description];
  if (e.machine) out.push('', `*machine \`${e.machine}\` only*`);
  if (e.notes) out.push('', e.notes);
  out.push('', 'Data:', '');
  if (e.data) out.push(...membersTable(e.data.members));
  else out.push('none');
  return out;
}

/** The whole of docs/qmp.md. */
export function renderQmpDocs(): string {
  const lines = [INTRO.trimEnd(), '', '## Commands'];
  for (const c of QMP_COMMANDS) lines.push(...commandSection(c));
  lines.push('', '## Events');
  for (const e of QMP_EVENTS) lines.push(...eventSection(e));
  return `${lines.join('\n')}\n`;
}
