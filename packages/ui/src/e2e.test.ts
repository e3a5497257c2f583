/// <reference lib="dom" />
/**
 * End to end: an emulator with the web display (see testing/harness.ts for the two ways of
 * starting one), the UI process it spawns, and Debian's Chromium driven by playwright-core.
 * Everything is read from the page the way a person sees it: the LEDs from the board's DOM,
 * the serial output from the terminal's rows.
 *
 * Waits are for states (text in the terminal, a status), never for host time to pass.
 * Set TSEMU_UI_SCREENSHOTS=1 to also save docs/ui-laptop.png and docs/ui-phone.png.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Columns,
  cleanWindows,
  frameColumns,
  haveMicroPythonRuntime,
  MicroPythonBoard,
  readScrolledText,
  scrollTape,
} from '../../emu/src/machine/testing/micropython.js';
import { type EmulatorUnderTest, launchWebEmulator, REPO } from './testing/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const HELLO_HEX = join(REPO, 'firmware/build/hello.hex');
const HAVE_UFLASH = spawnSync('uflash', ['--version']).status === 0;
const READY = existsSync(CHROMIUM) && haveMicroPythonRuntime() && HAVE_UFLASH;
const WHY = READY ? '' : ' (skipped: needs /usr/bin/chromium, firmware-microbit-micropython and uflash)';
const TEXT = 'Hello World!';
const WAIT = { timeout: 60_000, interval: 100 };

/** The program under test: scrolls, then counts presses of button A on the serial port. */
const SCRIPT = `from microbit import *
display.scroll(${JSON.stringify(TEXT)})
print('scrolled')
n = 0
while True:
    if button_a.was_pressed():
        n += 1
        print('A pressed', n)
    sleep(20)
`;

/** Records each LED frame the page draws (one DOM mutation batch per frame message). */
const RECORD_FRAMES = `
  window.__frames = [];
  new MutationObserver(() => {
    const leds = document.querySelectorAll('#leds .led');
    if (leds.length !== 25) return;
    window.__frames.push(Array.from(leds, (l) => [Number(l.dataset.level), Number(l.dataset.brightness)]));
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-brightness'] });
`;

let dir = '';
let context: BrowserContext;

/** A hex built by uflash from a MicroPython script. */
function uflashHex(name: string, script: string): string {
  const src = join(dir, `${name}.py`);
  writeFileSync(src, script);
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  const r = spawnSync('uflash', [src, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`uflash failed: ${r.stderr}`);
  return join(out, 'micropython.hex');
}

/** The glyph MicroPython shows for each character (the reference font), read in the library. */
function referenceGlyphs(text: string): Map<string, Columns> {
  const board = MicroPythonBoard.boot();
  const font = new Map<string, Columns>();
  for (const c of new Set(text)) {
    board.exec(`display.show(${JSON.stringify(c)})`);
    font.set(c, frameColumns(board.steadyLevels()));
  }
  return font;
}

/** The terminal's visible rows, as text. */
function terminalText(page: Page): Promise<string> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('.xterm-rows > div'), (d) => d.textContent ?? '')
      .join('\n')
      .replace(/\u00a0/g, ' '),
  );
}

/** Drops a file on the page, as dragging it from a file manager does. */
async function dropFile(page: Page, path: string, name: string): Promise<void> {
  const b64 = readFileSync(path).toString('base64');
  const dataTransfer = await page.evaluateHandle(
    ({ b64, name }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name));
      return dt;
    },
    { b64, name },
  );
  await page.dispatchEvent('body', 'drop', { dataTransfer });
}

async function openPage(url: string, record = false): Promise<Page> {
  const page = await context.newPage();
  if (record) await page.addInitScript(RECORD_FRAMES);
  await page.goto(url);
  await expect.poll(() => page.locator('#status-state').textContent(), WAIT).not.toBe('connecting…');
  return page;
}

beforeAll(async () => {
  if (!READY) return;
  // The UI process and the page are run from their build.
  const build = spawnSync(
    process.execPath,
    [join(REPO, 'node_modules/typescript/bin/tsc'), '-b', 'packages/ui'],
    {
      cwd: REPO,
      encoding: 'utf8',
    },
  );
  if (build.status !== 0) throw new Error(`building packages/ui failed:\n${build.stdout}${build.stderr}`);
  dir = mkdtempSync(join(tmpdir(), 'tsemu-ui-e2e-'));
  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 768 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!READY)(`the web UI, end to end${WHY}`, () => {
  let emu: EmulatorUnderTest;
  let page: Page;

  afterAll(async () => {
    await emu?.stop();
  });

  it('shows the scrolling text on the board', async () => {
    const font = referenceGlyphs(TEXT);
    emu = await launchWebEmulator(uflashHex('scroll', SCRIPT));
    page = await openPage(emu.url, true);
    // Started stopped (-S): nothing was missed before the page was there.
    await expect.poll(() => page.locator('#pause').textContent(), WAIT).toBe('Resume');
    await page.click('#pause');
    await expect.poll(() => terminalText(page), WAIT).toContain('scrolled');
    const recorded = await page.evaluate(() => (window as unknown as { __frames: number[][][] }).__frames);
    // A frame counts as clean when every LED is fully on or off (as the library's frameLevels).
    const frames = recorded.map((leds) =>
      leds.map(([level, b]) => (b === 0 ? 0 : b! >= 252 ? 9 : Math.min(8, Math.max(1, level!)))),
    );
    const reading = readScrolledText(scrollTape(cleanWindows(frames)), font, 3);
    expect(reading.text).toBe(TEXT);
  }, 90_000);

  it('clicking button A changes what the program prints', async () => {
    expect(await terminalText(page)).not.toContain('A pressed');
    await page.click('#button-a');
    await expect.poll(() => terminalText(page), WAIT).toContain('A pressed 1');
    await page.click('#btn-a');
    await expect.poll(() => terminalText(page), WAIT).toContain('A pressed 2');
  }, 60_000);

  it('runs print(6*7) typed into the REPL', async () => {
    await page.click('#terminal');
    await page.keyboard.press('Control+C');
    await expect.poll(() => terminalText(page), WAIT).toMatch(/>>> *$/m);
    await page.keyboard.type('print(6*7)');
    await page.keyboard.press('Enter');
    await expect
      .poll(async () => (await terminalText(page)).split('\n').map((l) => l.trimEnd()), WAIT)
      .toContain('42');
  }, 60_000);

  it('restarts the board with a dropped hex', async () => {
    await dropFile(page, HELLO_HEX, 'hello.hex');
    await expect.poll(() => terminalText(page), WAIT).toContain('Hello from tsemu');
    expect(await terminalText(page)).toContain('flashed hello.hex');
  }, 60_000);

  it('keeps the emulator when the tab closes, and ends it (status 0) when the UI process does', async () => {
    await page.close();
    expect(emu.alive()).toBe(true);
    // Another tab finds the same machine, with what it printed so far.
    const again = await openPage(emu.url);
    await expect.poll(() => again.locator('#status-state').textContent(), WAIT).toBe('running');
    await expect.poll(() => terminalText(again), WAIT).toContain('Hello from tsemu');
    await again.close();
    expect(emu.alive()).toBe(true);
    emu.killUi();
    expect(await emu.exited).toBe(0);
  }, 60_000);
});

describe.skipIf(!READY || !existsSync(HELLO_HEX))(`the web UI with our own firmware${WHY}`, () => {
  it('runs the demo firmware, then MicroPython chosen with the Flash button', async () => {
    const emu = await launchWebEmulator(HELLO_HEX);
    try {
      const page = await openPage(emu.url);
      await page.click('#pause');
      await expect.poll(() => terminalText(page), WAIT).toContain('Hello from tsemu');
      await page.setInputFiles('#flash-file', uflashHex('chooser', "print('chosen in the file dialog')\n"));
      await expect.poll(() => terminalText(page), WAIT).toContain('chosen in the file dialog');
      await page.close();
    } finally {
      await emu.stop();
    }
  }, 60_000);
});

describe.skipIf(!READY || !process.env.TSEMU_UI_SCREENSHOTS)('screenshots for docs/', () => {
  it('saves the page at laptop and phone sizes', async () => {
    const script = `from microbit import *
print('Hello from MicroPython on tsemu!')
print('Press A or B:')
display.show(Image.HEART)
while True:
    if button_a.was_pressed():
        print('A')
    if button_b.was_pressed():
        print('B')
    sleep(20)
`;
    const emu = await launchWebEmulator(uflashHex('heart', script));
    try {
      const page = await openPage(emu.url);
      await page.click('#pause');
      await expect.poll(() => terminalText(page), WAIT).toContain('Press A or B');
      await page.locator('#monitor-in').fill('info status');
      await page.locator('#monitor-in').press('Enter');
      await expect.poll(() => page.locator('#monitor-out').textContent(), WAIT).toContain('VM status');
      await page.locator('#monitor-in').blur();
      await page.setViewportSize({ width: 1366, height: 768 });
      await page.screenshot({ path: join(REPO, 'docs/ui-laptop.png') });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: join(REPO, 'docs/ui-phone.png') });
      await page.close();
    } finally {
      await emu.stop();
    }
  }, 90_000);
});
