/**
 * IRQ and GPIO lines (QEMU's qemu_irq and named GPIO arrays).
 *
 * An `OutputLine` drives any number of `InputLine`s. A level is an integer: 0 low, 1 (or any
 * non-zero) high, and `NOT_DRIVEN` (-1) for a line nobody drives (a floating pin, qtest's
 * `set_irq_in ... -1`). Setting an output forwards the level to every connected input, whose
 * handler runs synchronously; levels are remembered so readers can poll them.
 *
 * Devices own named arrays of lines (`''` is the unnamed array, as in QEMU). qtest's
 * `irq_intercept_*` and the board wiring both go through `connect`/`disconnect`/`intercept`.
 */
export const NOT_DRIVEN = -1;

export type LineHandler = (level: number, index: number) => void;

export class InputLine {
  level = NOT_DRIVEN;
  constructor(
    readonly ownerPath: () => string,
    readonly arrayName: string,
    readonly index: number,
    private readonly handler: LineHandler,
  ) {}

  /** qtest's `irq_intercept_in` observer, or null (the usual case: one null check per set). */
  private interceptor: LineHandler | null = null;

  /** Drives this input directly (qtest `set_irq_in`, tests, the board). */
  set(level: number): void {
    this.level = level;
    this.handler(level, this.index);
    const icpt = this.interceptor;
    if (icpt !== null) icpt(level, this.index);
  }

  /**
   * Installs `fn` to see every level this input receives, after the device's own handler (as
   * QEMU's `qemu_irq_intercept_in`: the device still gets the level and qtest reports it).
   * One interceptor at a time; a second replaces the first. Returns a function that removes it.
   */
  intercept(fn: LineHandler): () => void {
    this.interceptor = fn;
    return () => {
      if (this.interceptor === fn) this.interceptor = null;
    };
  }

  toString(): string {
    return `${this.ownerPath()}:${this.arrayName || 'unnamed-gpio-in'}[${this.index}]`;
  }
}

export class OutputLine {
  level = NOT_DRIVEN;
  private targets: InputLine[] = [];
  /** Observers that see every level change (qtest intercept, tracing, UI). */
  private watchers: Array<(level: number, line: OutputLine) => void> = [];

  constructor(
    readonly ownerPath: () => string,
    readonly arrayName: string,
    readonly index: number,
  ) {}

  connect(input: InputLine): void {
    if (!this.targets.includes(input)) this.targets.push(input);
    if (this.level !== NOT_DRIVEN) input.set(this.level);
  }

  disconnect(input?: InputLine): void {
    this.targets = input ? this.targets.filter((t) => t !== input) : [];
  }

  get connections(): readonly InputLine[] {
    return this.targets;
  }

  watch(fn: (level: number, line: OutputLine) => void): () => void {
    this.watchers.push(fn);
    return () => {
      this.watchers = this.watchers.filter((w) => w !== fn);
    };
  }

  set(level: number): void {
    this.level = level;
    const t = this.targets;
    for (let i = 0; i < t.length; i++) t[i]!.set(level);
    const w = this.watchers;
    for (let i = 0; i < w.length; i++) w[i]!(level, this);
  }

  raise(): void {
    this.set(1);
  }
  lower(): void {
    this.set(0);
  }
  /** A one-shot pulse (edge-triggered consumers see 1 then 0). */
  pulse(): void {
    this.set(1);
    this.set(0);
  }

  toString(): string {
    return `${this.ownerPath()}:${this.arrayName || 'unnamed-gpio-out'}[${this.index}]`;
  }
}

/** Named arrays of input and output lines for one device. */
export class LineSet {
  readonly inputs = new Map<string, InputLine[]>();
  readonly outputs = new Map<string, OutputLine[]>();
  constructor(private readonly ownerPath: () => string) {}

  /** Adds `count` inputs to the array `name` (`''` = unnamed); returns the new lines. */
  addInputs(name: string, count: number, handler: LineHandler): InputLine[] {
    const arr = this.inputs.get(name) ?? [];
    const base = arr.length;
    for (let i = 0; i < count; i++) arr.push(new InputLine(this.ownerPath, name, base + i, handler));
    this.inputs.set(name, arr);
    return arr.slice(base);
  }

  addOutputs(name: string, count: number): OutputLine[] {
    const arr = this.outputs.get(name) ?? [];
    const base = arr.length;
    for (let i = 0; i < count; i++) arr.push(new OutputLine(this.ownerPath, name, base + i));
    this.outputs.set(name, arr);
    return arr.slice(base);
  }

  input(name: string, index: number): InputLine | undefined {
    return this.inputs.get(name)?.[index];
  }

  output(name: string, index: number): OutputLine | undefined {
    return this.outputs.get(name)?.[index];
  }
}
