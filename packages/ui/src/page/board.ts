/**
 * The micro:bit v1 front drawn to scale in SVG, in millimetres: the 51.6 × 42 mm board, the 5×5
 * LED matrix, buttons A and B, and the gold edge connector (five large pads with their 4 mm
 * holes for crocodile clips, labelled 0, 1, 2, 3V, GND, and the narrow strips between them at
 * the 1.27 mm pitch). Positions follow the board's published outline closely enough to be
 * recognised; they are not a mechanical drawing.
 */

const SVG = 'http://www.w3.org/2000/svg';
export const BOARD_W = 51.6;
export const BOARD_H = 42;

export interface BoardView {
  readonly svg: SVGSVGElement;
  /** Shows a frame: 25 MicroPython levels (0..9) and brightnesses (0..255), row-major. */
  setFrame(levels: readonly number[], brightness: readonly number[]): void;
  /** The elements a user presses: buttons A and B, and the pads P0-P2. */
  readonly buttonA: SVGGElement;
  readonly buttonB: SVGGElement;
  readonly pads: ReadonlyMap<string, SVGGElement>;
  /** Marks a button or pad as held (drawn pressed). */
  setHeld(target: SVGGElement, held: boolean): void;
}

function el<K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number>,
  parent?: Element,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

/** The edge connector, left to right: large pads by name, strips by pin number. */
const CONNECTOR: ReadonlyArray<{ big: boolean; name: string }> = [
  { big: false, name: 'P3' },
  { big: true, name: '0' },
  ...['P4', 'P5', 'P6', 'P7'].map((name) => ({ big: false, name })),
  { big: true, name: '1' },
  ...['P8', 'P9', 'P10', 'P11', 'P12'].map((name) => ({ big: false, name })),
  { big: true, name: '2' },
  ...['P13', 'P14', 'P15', 'P16'].map((name) => ({ big: false, name })),
  { big: true, name: '3V' },
  ...['P19', 'P20'].map((name) => ({ big: false, name })),
  { big: true, name: 'GND' },
];

const PITCH = 1.27;
const STRIP_W = 0.8;
const EDGE_MARGIN = 0.9;

export function createBoard(): BoardView {
  const svg = el('svg', {
    viewBox: `-0.6 -0.6 ${BOARD_W + 1.2} ${BOARD_H + 1.2}`,
    class: 'board',
    role: 'img',
    'aria-label': 'BBC micro:bit',
  });
  const defs = el('defs', {}, svg);
  const glow = el('radialGradient', { id: 'led-glow' }, defs);
  el('stop', { offset: '0%', 'stop-color': '#ff5a4a', 'stop-opacity': 0.95 }, glow);
  el('stop', { offset: '45%', 'stop-color': '#ff2d1f', 'stop-opacity': 0.45 }, glow);
  el('stop', { offset: '100%', 'stop-color': '#ff2d1f', 'stop-opacity': 0 }, glow);
  const gold = el('linearGradient', { id: 'gold', x1: 0, y1: 0, x2: 0, y2: 1 }, defs);
  el('stop', { offset: '0%', 'stop-color': '#f3d27a' }, gold);
  el('stop', { offset: '100%', 'stop-color': '#c8962e' }, gold);
  const pcb = el('linearGradient', { id: 'pcb', x1: 0, y1: 0, x2: 0.3, y2: 1 }, defs);
  el('stop', { offset: '0%', 'stop-color': '#2b2f36' }, pcb);
  el('stop', { offset: '100%', 'stop-color': '#16181c' }, pcb);

  // The board, with the large pads' holes cut out (they show what is behind the board).
  const holes: Array<{ cx: number; cy: number }> = [];
  const items = layoutConnector();
  for (const it of items) if (it.big) holes.push({ cx: it.x + it.w / 2, cy: BOARD_H - 5.6 });
  const r = 2.6;
  let outline = `M${r},0 H${BOARD_W - r} A${r},${r} 0 0 1 ${BOARD_W},${r} V${BOARD_H} H0 V${r} A${r},${r} 0 0 1 ${r},0 Z`;
  for (const h of holes) outline += ` M${h.cx - 2},${h.cy} a2,2 0 1 0 4,0 a2,2 0 1 0 -4,0 Z`;
  el(
    'path',
    { d: outline, fill: 'url(#pcb)', 'fill-rule': 'evenodd', stroke: '#0b0c0e', 'stroke-width': 0.25 },
    svg,
  );

  // A faint wordmark at the top edge, as printed on the board.
  const mark = el('text', { x: BOARD_W / 2, y: 4.6, class: 'wordmark', 'text-anchor': 'middle' }, svg);
  mark.textContent = 'micro:bit';

  // Edge connector.
  const pads = new Map<string, SVGGElement>();
  const connector = el('g', { class: 'connector' }, svg);
  for (const it of items) {
    if (it.big) {
      const g = el('g', { class: 'pad', 'data-pin': it.name }, connector);
      const top = BOARD_H - 9.4;
      const w = it.w;
      const cx = it.x + w / 2;
      const cy = BOARD_H - 5.6;
      const d = `M${it.x + 0.6},${top} H${it.x + w - 0.6} Q${it.x + w},${top} ${it.x + w},${top + 0.6} V${BOARD_H} H${it.x} V${top + 0.6} Q${it.x},${top} ${it.x + 0.6},${top} Z M${cx - 2},${cy} a2,2 0 1 0 4,0 a2,2 0 1 0 -4,0 Z`;
      el(
        'path',
        { d, fill: 'url(#gold)', 'fill-rule': 'evenodd', stroke: '#9c7424', 'stroke-width': 0.15 },
        g,
      );
      const label = el('text', { x: cx, y: top - 1.1, class: 'pad-label', 'text-anchor': 'middle' }, g);
      label.textContent = it.name;
      const title = el('title', {}, g);
      title.textContent = /^\d$/.test(it.name) ? `P${it.name}: hold to touch` : it.name;
      if (/^\d$/.test(it.name)) pads.set(`P${it.name}`, g);
    } else {
      const s = el(
        'rect',
        { x: it.x, y: BOARD_H - 5.2, width: it.w, height: 5.2, rx: 0.15, class: 'strip' },
        connector,
      );
      const title = el('title', {}, s);
      title.textContent = it.name;
    }
  }

  // LED matrix: 0603 LEDs standing upright, 4 mm apart, centred on the board.
  const leds: Array<{ body: SVGRectElement; halo: SVGCircleElement; group: SVGGElement }> = [];
  const matrix = el('g', { class: 'matrix', id: 'leds' }, svg);
  const pitch = 4.0;
  const cx0 = BOARD_W / 2 - 2 * pitch;
  const cy0 = 17.2 - 2 * pitch;
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 5; x++) {
      const cx = cx0 + x * pitch;
      const cy = cy0 + y * pitch;
      const group = el(
        'g',
        {
          class: 'led',
          id: `led-${x}-${y}`,
          'data-x': x,
          'data-y': y,
          'data-level': 0,
          'data-brightness': 0,
        },
        matrix,
      );
      const halo = el('circle', { cx, cy, r: 2.1, fill: 'url(#led-glow)', opacity: 0 }, group);
      const body = el(
        'rect',
        { x: cx - 0.55, y: cy - 1.05, width: 1.1, height: 2.1, rx: 0.2, class: 'led-body' },
        group,
      );
      leds.push({ body, halo, group });
    }
  }

  const buttonA = drawButton(svg, 7.4, 17.2, 'A');
  const buttonB = drawButton(svg, BOARD_W - 7.4, 17.2, 'B');

  return {
    svg,
    buttonA,
    buttonB,
    pads,
    setFrame(levels, brightness) {
      for (let i = 0; i < 25; i++) {
        const led = leds[i]!;
        const b = brightness[i] ?? 0;
        const level = levels[i] ?? 0;
        led.group.setAttribute('data-level', String(level));
        led.group.setAttribute('data-brightness', String(b));
        // The eye sees duty cycle roughly through a 2.2 gamma: MicroPython's dim levels stay visible.
        const seen = b <= 0 ? 0 : (b / 255) ** (1 / 2.2);
        led.halo.setAttribute('opacity', seen.toFixed(3));
        led.body.style.fill =
          seen > 0
            ? `rgba(255, ${Math.round(70 + 120 * seen)}, ${Math.round(60 + 100 * seen)}, ${(0.35 + 0.65 * seen).toFixed(3)})`
            : '';
      }
    },
    setHeld(target, held) {
      target.classList.toggle('held', held);
    },
  };
}

function layoutConnector(): Array<{ big: boolean; name: string; x: number; w: number }> {
  const strips = CONNECTOR.filter((c) => !c.big).length;
  const bigCount = CONNECTOR.length - strips;
  const bigSlot = (BOARD_W - 2 * EDGE_MARGIN - strips * PITCH) / bigCount;
  let x = EDGE_MARGIN;
  return CONNECTOR.map((c) => {
    const slot = c.big ? bigSlot : PITCH;
    const w = c.big ? bigSlot - 0.7 : STRIP_W;
    const item = { ...c, x: x + (slot - w) / 2, w };
    x += slot;
    return item;
  });
}

function drawButton(svg: SVGSVGElement, cx: number, cy: number, name: string): SVGGElement {
  const g = el(
    'g',
    {
      class: 'hw-button',
      id: `button-${name.toLowerCase()}`,
      role: 'button',
      'aria-label': `button ${name}`,
    },
    svg,
  );
  el('rect', { x: cx - 3, y: cy - 3, width: 6, height: 6, rx: 0.5, class: 'hw-button-case' }, g);
  for (const [dx, dy] of [
    [-2.3, -2.3],
    [2.3, -2.3],
    [-2.3, 2.3],
    [2.3, 2.3],
  ] as const) {
    el('circle', { cx: cx + dx, cy: cy + dy, r: 0.35, class: 'hw-button-rivet' }, g);
  }
  el('circle', { cx, cy, r: 1.9, class: 'hw-button-cap' }, g);
  const label = el('text', { x: cx, y: cy - 4.2, class: 'button-label', 'text-anchor': 'middle' }, g);
  label.textContent = name;
  return g;
}
