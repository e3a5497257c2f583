import { describe, expect, it } from 'vitest';
import { InputLine, LineSet, NOT_DRIVEN, OutputLine } from './lines.js';

/** An input that records every level it receives, with its index. */
function recordingInput(index = 0, name = 'irq') {
  const seen: Array<[level: number, index: number]> = [];
  const line = new InputLine(
    () => '/machine/nvic',
    name,
    index,
    (level, i) => seen.push([level, i]),
  );
  return { line, seen };
}

function output(index = 0, name = '') {
  return new OutputLine(() => '/machine/uart0', name, index);
}

describe('OutputLine and InputLine', () => {
  it('start undriven', () => {
    expect(NOT_DRIVEN).toBe(-1);
    expect(output().level).toBe(NOT_DRIVEN);
    expect(recordingInput().line.level).toBe(NOT_DRIVEN);
  });

  it('forwards every level set on an output to a connected input, synchronously', () => {
    const out = output();
    const { line, seen } = recordingInput(3);
    out.connect(line);
    out.raise();
    expect(line.level).toBe(1);
    out.lower();
    out.set(5);
    expect(seen).toEqual([
      [1, 3],
      [0, 3],
      [5, 3],
    ]);
    expect(out.level).toBe(5);
    expect(line.level).toBe(5);
  });

  it('calls the handler even when the level does not change (as qemu_set_irq does)', () => {
    const out = output();
    const { line, seen } = recordingInput();
    out.connect(line);
    out.raise();
    out.raise();
    expect(seen).toEqual([
      [1, 0],
      [1, 0],
    ]);
  });

  it('gives a newly connected input the level of a driven output, and nothing for an undriven one', () => {
    const undriven = output();
    const a = recordingInput();
    undriven.connect(a.line);
    expect(a.seen).toEqual([]);
    expect(a.line.level).toBe(NOT_DRIVEN);

    const driven = output();
    driven.lower();
    const b = recordingInput();
    driven.connect(b.line);
    expect(b.seen).toEqual([[0, 0]]);
  });

  it('connects the same input only once', () => {
    const out = output();
    const { line, seen } = recordingInput();
    out.connect(line);
    out.connect(line);
    expect(out.connections).toEqual([line]);
    out.raise();
    expect(seen).toEqual([[1, 0]]);
  });

  it('fans out one output to several inputs in connection order', () => {
    const out = output();
    const order: string[] = [];
    const inputs = ['a', 'b', 'c'].map(
      (n, i) =>
        new InputLine(
          () => '/x',
          n,
          i,
          (level) => order.push(`${n}=${level}`),
        ),
    );
    for (const input of inputs) out.connect(input);
    out.raise();
    expect(order).toEqual(['a=1', 'b=1', 'c=1']);
    expect(inputs.map((l) => l.level)).toEqual([1, 1, 1]);
  });

  it('disconnects one input, or all inputs when none is named', () => {
    const out = output();
    const a = recordingInput(0);
    const b = recordingInput(1);
    out.connect(a.line);
    out.connect(b.line);
    out.disconnect(a.line);
    out.raise();
    expect(a.seen).toEqual([]);
    expect(b.seen).toEqual([[1, 1]]);
    out.disconnect();
    expect(out.connections).toEqual([]);
    out.lower();
    expect(b.seen).toEqual([[1, 1]]);
  });

  it('passes NOT_DRIVEN through like any level', () => {
    const out = output();
    const { line, seen } = recordingInput();
    out.connect(line);
    out.raise();
    out.set(NOT_DRIVEN);
    expect(line.level).toBe(NOT_DRIVEN);
    expect(seen.at(-1)).toEqual([NOT_DRIVEN, 0]);
  });

  it('drives an input directly (qtest set_irq_in)', () => {
    const { line, seen } = recordingInput(2);
    line.set(1);
    line.set(NOT_DRIVEN);
    expect(seen).toEqual([
      [1, 2],
      [NOT_DRIVEN, 2],
    ]);
    expect(line.level).toBe(NOT_DRIVEN);
  });

  it('shows every level an input receives to its interceptor, after the handler, until removed', () => {
    const order: string[] = [];
    const line = new InputLine(
      () => '/machine/nrf51',
      '',
      5,
      (level, i) => order.push(`handler ${level} ${i}`),
    );
    const out = output();
    out.connect(line);
    const remove = line.intercept((level, i) => order.push(`intercept ${level} ${i}`));
    out.set(1);
    line.set(NOT_DRIVEN);
    remove();
    out.set(0);
    expect(order).toEqual(['handler 1 5', 'intercept 1 5', 'handler -1 5', 'intercept -1 5', 'handler 0 5']);
    expect(line.level).toBe(0);
  });

  it('keeps a newer interceptor when an older one is removed', () => {
    const { line } = recordingInput();
    const seen: string[] = [];
    const removeFirst = line.intercept(() => seen.push('first'));
    line.intercept(() => seen.push('second'));
    removeFirst();
    line.set(1);
    expect(seen).toEqual(['second']);
  });

  it('shows every level change to watchers, after the inputs, until unwatched', () => {
    const out = output();
    const events: string[] = [];
    const input = new InputLine(
      () => '/x',
      '',
      0,
      (level) => events.push(`input ${level}`),
    );
    out.connect(input);
    const unwatch = out.watch((level, line) => {
      expect(line).toBe(out);
      events.push(`watch ${level}`);
    });
    out.raise();
    unwatch();
    out.lower();
    expect(events).toEqual(['input 1', 'watch 1', 'input 0']);
  });

  it('lets a watcher unwatch itself while being notified without skipping the others', () => {
    const out = output();
    const seen: string[] = [];
    const unwatchFirst = out.watch(() => {
      seen.push('first');
      unwatchFirst();
    });
    out.watch(() => seen.push('second'));
    out.raise();
    out.lower();
    expect(seen).toEqual(['first', 'second', 'second']);
  });

  it('pulses 1 then 0 and ends low', () => {
    const out = output();
    const { line, seen } = recordingInput();
    out.connect(line);
    out.pulse();
    expect(seen).toEqual([
      [1, 0],
      [0, 0],
    ]);
    expect(out.level).toBe(0);
  });

  it('names lines by owner, array and index, with QEMU names for unnamed arrays', () => {
    expect(output(2).toString()).toBe('/machine/uart0:unnamed-gpio-out[2]');
    expect(output(0, 'sysbus-irq').toString()).toBe('/machine/uart0:sysbus-irq[0]');
    expect(
      new InputLine(
        () => '/machine/nvic',
        '',
        7,
        () => {},
      ).toString(),
    ).toBe('/machine/nvic:unnamed-gpio-in[7]');
    expect(recordingInput(1, 'irq').line.toString()).toBe('/machine/nvic:irq[1]');
  });

  it('reads the owner path when printed, so renamed owners print their new path', () => {
    let path = '/old';
    const out = new OutputLine(() => path, 'x', 0);
    path = '/new';
    expect(out.toString()).toBe('/new:x[0]');
  });
});

describe('LineSet', () => {
  it('numbers lines per array and keeps named and unnamed arrays apart', () => {
    const set = new LineSet(() => '/machine/gpio');
    const unnamed = set.addInputs('', 2, () => {});
    const named = set.addInputs('pin', 3, () => {});
    expect(unnamed.map((l) => l.index)).toEqual([0, 1]);
    expect(named.map((l) => l.index)).toEqual([0, 1, 2]);
    expect(set.input('', 1)).toBe(unnamed[1]);
    expect(set.input('pin', 2)).toBe(named[2]);
    expect(set.input('pin', 2)?.toString()).toBe('/machine/gpio:pin[2]');
    expect(set.input('', 2)).toBeUndefined();
    expect(set.input('other', 0)).toBeUndefined();
  });

  it('appends to an existing array and returns only the new lines', () => {
    const set = new LineSet(() => '/d');
    set.addOutputs('irq', 2);
    const more = set.addOutputs('irq', 2);
    expect(more.map((l) => l.index)).toEqual([2, 3]);
    expect(set.outputs.get('irq')).toHaveLength(4);
    expect(set.output('irq', 3)).toBe(more[1]);
    expect(set.output('irq', 4)).toBeUndefined();
  });

  it('gives each input the handler of its array with the line index', () => {
    const set = new LineSet(() => '/d');
    const seen: string[] = [];
    set.addInputs('a', 2, (level, i) => seen.push(`a${i}=${level}`));
    set.addInputs('b', 1, (level, i) => seen.push(`b${i}=${level}`));
    set.input('a', 1)!.set(1);
    set.input('b', 0)!.set(0);
    expect(seen).toEqual(['a1=1', 'b0=0']);
  });

  it('wires outputs of one set to inputs of another', () => {
    const src = new LineSet(() => '/machine/timer');
    const dst = new LineSet(() => '/machine/nvic');
    const levels: number[] = [];
    const [irq] = src.addOutputs('', 1);
    dst.addInputs('', 32, (level, i) => {
      if (i === 8) levels.push(level);
    });
    irq!.connect(dst.input('', 8)!);
    irq!.pulse();
    expect(levels).toEqual([1, 0]);
  });
});
