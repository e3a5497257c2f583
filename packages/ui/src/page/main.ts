/**
 * The page: the board, its controls, the serial terminal (xterm.js) and the monitor console,
 * all driven through one connection to the UI process (protocol.ts).
 */
import type { FitAddon as FitAddonType } from '@xterm/addon-fit';
import type { Terminal as TerminalType } from '@xterm/xterm';
import { type BoardView, createBoard } from './board.js';
import { Connection, type Incoming, type MachineInfo, type Status } from './protocol.js';

// xterm.js and its fit addon are loaded by <script> tags (their UMD builds) before this module.
declare global {
  interface Window {
    Terminal: typeof TerminalType;
    FitAddon: { FitAddon: typeof FitAddonType };
  }
}

/** Shortest press and gap between presses sent to the board (see sendButton). */
const MIN_PRESS_MS = 150;
const MIN_GAP_MS = 100;
const TILT_STEP = 128;

function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page element #${id} is missing`);
  return e;
}

function input(id: string): HTMLInputElement {
  return $(id) as HTMLInputElement;
}

const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?token=${encodeURIComponent(token)}`;

let board: BoardView | null = null;
let status: Status | null = null;
let machine: MachineInfo | null = null;

const conn = new Connection(wsUrl, {
  onOpen: () => {
    $('gone').hidden = true;
  },
  onClose: () => {
    $('gone').hidden = false;
    setStatusView('disconnected', '', '');
  },
  onMessage: (msg) => handle(msg),
});

// ---- terminal -----------------------------------------------------------------------------------

const term = new window.Terminal({
  cursorBlink: true,
  convertEol: false,
  scrollback: 5000,
  fontFamily: 'ui-monospace, "JetBrains Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace',
  fontSize: 13,
  theme: {
    background: '#0f1115',
    foreground: '#d7dae0',
    cursor: '#f5c542',
    selectionBackground: '#3a4a66',
  },
});
const fit = new window.FitAddon.FitAddon();
term.loadAddon(fit);
term.open($('terminal'));
const refit = (): void => {
  try {
    fit.fit();
  } catch {
    // Not laid out yet.
  }
};
new ResizeObserver(refit).observe($('terminal'));
term.onData((data) => conn.send({ type: 'serial-in', text: data }));
let lastEscape = 0;
term.attachCustomKeyEventHandler((ev) => {
  if (ev.type !== 'keydown') return true;
  if (ev.ctrlKey && ev.shiftKey && ev.code === 'KeyC') {
    const text = term.getSelection();
    if (text) void navigator.clipboard?.writeText(text);
    return false;
  }
  if (ev.ctrlKey && ev.shiftKey && ev.code === 'KeyV') {
    void navigator.clipboard?.readText().then((text) => conn.send({ type: 'serial-in', text }));
    return false;
  }
  if (ev.key === 'Escape') {
    // Escape twice leaves the terminal (the first one still reaches the guest).
    if (ev.timeStamp - lastEscape < 600) {
      term.blur();
      lastEscape = 0;
      return false;
    }
    lastEscape = ev.timeStamp;
  }
  return true;
});
$('term-clear').addEventListener('click', () => term.clear());

function serialBytes(b64: string): Uint8Array {
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  let n = 0;
  // NUL bytes (the DAL primes its UART with one) would show as blanks.
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 0) out[n++] = c;
  }
  return out.subarray(0, n);
}

function note(text: string): void {
  term.write(`\r\n\x1b[2;36m── ${text} ──\x1b[0m\r\n`);
}

// ---- messages -----------------------------------------------------------------------------------

function handle(msg: Incoming): void {
  switch (msg.type) {
    case 'hello':
      // A new connection: what follows is the whole state again.
      term.reset();
      break;
    case 'machine':
      setMachine(msg);
      break;
    case 'status':
      setStatus(msg);
      break;
    case 'frame':
      board?.setFrame(msg.levels, msg.brightness);
      break;
    case 'serial':
      term.write(serialBytes(msg.data));
      break;
    case 'event':
      if (msg.event === 'reset')
        note(msg.reason === 'host-ui' ? 'reset' : `reset (${msg.reason ?? 'guest'})`);
      else if (msg.event === 'flashed') note(`flashed ${msg.name ?? ''}`);
      else if (msg.event === 'shutdown') note('the machine has shut down');
      break;
    case 'error':
      toast(msg.message, true);
      break;
    case 'monitor-reply':
      monitorPrint(msg.text);
      break;
    default:
      break;
  }
}

function setMachine(info: MachineInfo): void {
  machine = info;
  $('board-name').textContent = info.description;
  document.title = `tsemu · ${info.description}`;
  const isBoard = info.board !== null;
  document.body.classList.toggle('no-board', !isBoard);
  if (isBoard && !board) {
    board = createBoard();
    $('board').appendChild(board.svg);
    wireBoard(board);
  }
  buildPins(info.pins);
}

function setStatusView(state: string, time: string, mode: string): void {
  $('status').dataset.state = state;
  $('status-state').textContent = state;
  $('status-time').textContent = time;
  $('status-mode').textContent = mode;
}

function formatTime(ns: number): string {
  const s = ns / 1e9;
  if (s < 60) return `${s.toFixed(3)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${(s - m * 60).toFixed(1).padStart(4, '0')} s`;
}

function setStatus(s: Status): void {
  status = s;
  setStatusView(s.state, formatTime(s.time), s.mode);
  $('pause').textContent = s.state === 'running' ? 'Pause' : 'Resume';
  $('speed').textContent = s.mode === 'fast' ? 'Realtime' : 'Fast';
  for (const [pin, level] of Object.entries(s.outputs ?? {})) {
    const out = document.getElementById(`out-${pin}`);
    if (!out) continue;
    out.textContent = level < 0 ? 'in' : `out ${level}`;
    out.dataset.level = String(level);
  }
}

// ---- requests with feedback ---------------------------------------------------------------------

let toastTimer = 0;
function toast(text: string, error = false): void {
  const t = $('toast');
  t.textContent = text;
  t.classList.toggle('error', error);
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => {
    t.hidden = true;
  }, 4000);
}

function act(msg: { type: string; [key: string]: unknown }): void {
  conn.request(msg).catch((e: Error) => toast(e.message, true));
}

// ---- board and buttons --------------------------------------------------------------------------

type ButtonName = 'A' | 'B' | 'AB';
const held = new Set<ButtonName>();
/** Host time from which each button's next action may go out. */
const nextActionAt = new Map<ButtonName, number>();

/**
 * Sends a press or release no sooner than the runtimes can see it: a press lasts at least
 * MIN_PRESS_MS and a release MIN_GAP_MS, so quick clicks each count (the DAL debounces over
 * several 6 ms ticks).
 */
function sendButton(button: ButtonName, action: 'press' | 'release'): void {
  const now = performance.now();
  const at = Math.max(now, nextActionAt.get(button) ?? 0);
  nextActionAt.set(button, at + (action === 'press' ? MIN_PRESS_MS : MIN_GAP_MS));
  window.setTimeout(() => conn.send({ type: 'button', button, action }), at - now);
}

function press(button: ButtonName): void {
  if (held.has(button)) return;
  held.add(button);
  sendButton(button, 'press');
  showHeld(button, true);
}

function release(button: ButtonName): void {
  if (!held.has(button)) return;
  held.delete(button);
  sendButton(button, 'release');
  showHeld(button, false);
}

function showHeld(button: ButtonName, isHeld: boolean): void {
  const ids = button === 'AB' ? ['btn-ab'] : [`btn-${button.toLowerCase()}`];
  for (const id of ids) $(id).classList.toggle('held', isHeld);
  if (!board) return;
  if (button !== 'B') board.setHeld(board.buttonA, isHeld || held.has('A') || held.has('AB'));
  if (button !== 'A') board.setHeld(board.buttonB, isHeld || held.has('B') || held.has('AB'));
}

/** Press while the pointer is down (mouse, pen or finger). */
function holdable(el: Element, down: () => void, up: () => void): void {
  el.addEventListener('pointerdown', (ev) => {
    const pe = ev as PointerEvent;
    if (pe.button !== 0) return;
    pe.preventDefault();
    (el as HTMLElement | SVGElement).setPointerCapture?.(pe.pointerId);
    down();
  });
  for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) el.addEventListener(type, up);
  el.addEventListener('contextmenu', (ev) => ev.preventDefault());
}

function wireBoard(b: BoardView): void {
  holdable(
    b.buttonA,
    () => press('A'),
    () => release('A'),
  );
  holdable(
    b.buttonB,
    () => press('B'),
    () => release('B'),
  );
  for (const [pin, pad] of b.pads) {
    holdable(
      pad,
      () => touch(pin, true),
      () => touch(pin, false),
    );
  }
}

holdable(
  $('btn-a'),
  () => press('A'),
  () => release('A'),
);
holdable(
  $('btn-b'),
  () => press('B'),
  () => release('B'),
);
holdable(
  $('btn-ab'),
  () => press('AB'),
  () => release('AB'),
);

// ---- pins ---------------------------------------------------------------------------------------

const touching = new Set<string>();
function touch(pin: string, on: boolean): void {
  if (on === touching.has(pin)) return;
  if (on) touching.add(pin);
  else touching.delete(pin);
  conn.send({ type: 'pin', pin, touch: on });
  const pad = board?.pads.get(pin);
  if (pad && board) board.setHeld(pad, on);
  document.getElementById(`touch-${pin}`)?.classList.toggle('held', on);
}

function buildPins(pins: string[]): void {
  const rows = $('pin-rows');
  rows.textContent = '';
  for (const pin of pins) {
    const row = document.createElement('div');
    row.className = 'pin-row';
    row.innerHTML = `
      <span class="pin-name">${pin}</span>
      <button type="button" class="small touch" id="touch-${pin}" title="Touch ${pin} (as a finger does, holding GND)">touch</button>
      <label class="switch" title="Drive ${pin} high or low"><input type="checkbox" id="dig-${pin}" /><span>1</span></label>
      <input type="range" id="ana-${pin}" min="0" max="1023" value="0" aria-label="${pin} analog level" />
      <output id="ana-${pin}-out">—</output>
      <span class="pin-out" id="out-${pin}" data-level="-1">in</span>`;
    rows.appendChild(row);
    holdable(
      row.querySelector('.touch')!,
      () => touch(pin, true),
      () => touch(pin, false),
    );
    const dig = input(`dig-${pin}`);
    dig.addEventListener('change', () => {
      input(`ana-${pin}-out`).value = dig.checked ? '1023' : '0';
      input(`ana-${pin}`).value = dig.checked ? '1023' : '0';
      act({ type: 'pin', pin, digital: dig.checked ? 1 : 0 });
    });
    const ana = input(`ana-${pin}`);
    ana.addEventListener('input', () => {
      input(`ana-${pin}-out`).value = ana.value;
      dig.checked = Number(ana.value) >= 512;
      act({ type: 'pin', pin, analog: Number(ana.value) });
    });
  }
  if (status) setStatus(status);
}

// ---- sensors ------------------------------------------------------------------------------------

function slider(id: string, show: (v: number) => string, send: (v: number) => void): HTMLInputElement {
  const el = input(id);
  const out = $(`${id}-out`) as HTMLOutputElement;
  el.addEventListener('input', () => {
    out.value = show(Number(el.value));
    send(Number(el.value));
  });
  return el;
}

const sendAcceleration = (): void => {
  act({ type: 'accelerometer', x: Number(accX.value), y: Number(accY.value), z: Number(accZ.value) });
};
const accX = slider('acc-x', String, sendAcceleration);
const accY = slider('acc-y', String, sendAcceleration);
const accZ = slider('acc-z', String, sendAcceleration);
slider(
  'heading',
  (v) => `${v}°`,
  (v) => act({ type: 'compass', heading: v }),
);
slider(
  'temperature',
  (v) => `${v} °C`,
  (v) => act({ type: 'temperature', celsius: v }),
);
slider('light', String, (v) => act({ type: 'light', level: v }));

function setAccelerationView(x: number, y: number, z: number): void {
  for (const [el, v] of [
    [accX, x],
    [accY, y],
    [accZ, z],
  ] as const) {
    el.value = String(v);
    ($(`${el.id}-out`) as HTMLOutputElement).value = String(v);
  }
}

function gesture(name: string): void {
  act({ type: 'gesture', name });
  if (name === 'face-up') setAccelerationView(0, 0, -1024);
  if (name === 'face-down') setAccelerationView(0, 0, 1024);
}

for (const b of document.querySelectorAll<HTMLButtonElement>('[data-gesture]')) {
  b.addEventListener('click', () => gesture(b.dataset.gesture!));
}

function tilt(dx: number, dy: number): void {
  const clamp = (v: number): number => Math.max(-2048, Math.min(2048, v));
  setAccelerationView(clamp(Number(accX.value) + dx), clamp(Number(accY.value) + dy), Number(accZ.value));
  sendAcceleration();
}

// ---- control ------------------------------------------------------------------------------------

function togglePause(): void {
  act({ type: 'control', action: status?.state === 'running' ? 'pause' : 'resume' });
}
function toggleSpeed(): void {
  act({ type: 'control', action: 'speed', mode: status?.mode === 'fast' ? 'realtime' : 'fast' });
}
function reset(): void {
  act({ type: 'control', action: 'reset' });
}
$('pause').addEventListener('click', togglePause);
$('speed').addEventListener('click', toggleSpeed);
$('reset').addEventListener('click', reset);

// ---- flashing -----------------------------------------------------------------------------------

function flash(file: File): void {
  const reader = new FileReader();
  reader.onload = () => {
    const url = String(reader.result);
    const data = url.slice(url.indexOf(',') + 1);
    conn
      .request({ type: 'flash', name: file.name, data })
      .then(() => toast(`Flashed ${file.name}: the board restarted`))
      .catch((e: Error) => toast(e.message, true));
  };
  reader.readAsDataURL(file);
}

const flashInput = input('flash-file');
flashInput.addEventListener('change', () => {
  const f = flashInput.files?.[0];
  if (f) flash(f);
  flashInput.value = '';
});

let dragDepth = 0;
const overlay = $('drop-overlay');
document.addEventListener('dragenter', (ev) => {
  if (!ev.dataTransfer?.types.includes('Files')) return;
  dragDepth++;
  overlay.hidden = false;
});
document.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) overlay.hidden = true;
});
document.addEventListener('dragover', (ev) => ev.preventDefault());
document.addEventListener('drop', (ev) => {
  ev.preventDefault();
  dragDepth = 0;
  overlay.hidden = true;
  const f = ev.dataTransfer?.files[0];
  if (f) flash(f);
});

// ---- monitor ------------------------------------------------------------------------------------

const monitorOut = $('monitor-out');
const monitorIn = input('monitor-in');
const history: string[] = [];
let historyAt = 0;

function monitorPrint(text: string): void {
  monitorOut.textContent += text.replace(/\r\n/g, '\n');
  // Keep the console to its last few hundred lines.
  const lines = (monitorOut.textContent ?? '').split('\n');
  if (lines.length > 400) monitorOut.textContent = lines.slice(-400).join('\n');
  monitorOut.scrollTop = monitorOut.scrollHeight;
}

$('monitor-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const line = monitorIn.value;
  monitorIn.value = '';
  if (line.trim() !== '' && history[history.length - 1] !== line) history.push(line);
  historyAt = history.length;
  monitorPrint(`(qemu) ${line}\n`);
  conn
    .request({ type: 'monitor', line })
    .then((text) => monitorPrint(text))
    .catch((e: Error) => monitorPrint(`${e.message}\n`));
});
monitorIn.addEventListener('keydown', (ev) => {
  if (ev.key === 'ArrowUp' && historyAt > 0) {
    monitorIn.value = history[--historyAt] ?? '';
    ev.preventDefault();
  } else if (ev.key === 'ArrowDown') {
    historyAt = Math.min(history.length, historyAt + 1);
    monitorIn.value = history[historyAt] ?? '';
    ev.preventDefault();
  }
});

// ---- keyboard shortcuts -------------------------------------------------------------------------

function typing(): boolean {
  const a = document.activeElement;
  if (!a) return false;
  if (a.closest('.terminal')) return true;
  return a instanceof HTMLInputElement ? a.type === 'text' : a instanceof HTMLTextAreaElement;
}

document.addEventListener('keydown', (ev) => {
  if (typing() || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const key = ev.key.toLowerCase();
  let handled = true;
  if (key === 'a') press('A');
  else if (key === 'b') press('B');
  else if (ev.repeat) handled = false;
  else if (key === 's') gesture('shake');
  else if (key === 'p') togglePause();
  else if (key === 'f') toggleSpeed();
  else if (key === 'r' && ev.shiftKey) reset();
  else if (key === 't') term.focus();
  else if (key === 'm') monitorIn.focus();
  else handled = false;
  // Arrow keys on a focused slider or button keep their own meaning.
  const own =
    document.activeElement instanceof HTMLInputElement || document.activeElement instanceof HTMLButtonElement;
  if (own && ev.key.startsWith('Arrow')) return;
  if (ev.key === 'ArrowLeft') tilt(-TILT_STEP, 0);
  else if (ev.key === 'ArrowRight') tilt(TILT_STEP, 0);
  else if (ev.key === 'ArrowUp') tilt(0, -TILT_STEP);
  else if (ev.key === 'ArrowDown') tilt(0, TILT_STEP);
  else if (!handled) return;
  ev.preventDefault();
});
document.addEventListener('keyup', (ev) => {
  const key = ev.key.toLowerCase();
  if (key === 'a') release('A');
  else if (key === 'b') release('B');
});
// A window that loses focus never sees the key going up.
window.addEventListener('blur', () => {
  release('A');
  release('B');
});

// Expose for tests and the curious: the machine description and status as last received.
Object.assign(window, {
  tsemu: {
    get machine() {
      return machine;
    },
    get status() {
      return status;
    },
  },
});

conn.open();
