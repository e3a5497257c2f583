/**
 * Interrupt counts for HMP `info irq`.
 *
 * QEMU asks each interrupt controller that implements its "interrupt stats provider" interface
 * for per-input counts. tsemu's controllers keep no counts, and their inputs cannot be watched
 * without touching the CPU code, so the counts are taken on the other side of the wire: every
 * device output line connected to an interrupt controller input gets a watcher that counts its
 * rising edges (low or undriven → high) into that input's slot. That is what "raised" means for
 * the level-triggered lines of the nRF51 peripherals. Counting starts when the stats are first
 * asked for a machine (the monitor does it when it is created, at start-up) and is shared by
 * every monitor of that machine. Inputs driven directly (qtest `set_irq_in`) are not counted.
 *
 * The watcher is on the interrupt path, so it allocates nothing: one closure per line, made
 * once, bumping a Float64Array slot.
 */
import type { Device } from '../../core/device.js';
import type { InputLine } from '../../core/lines.js';
import type { Machine } from '../../core/machine.js';
import { SystemControlSpace } from '../../cpu/arm/system-control-space.js';

interface ControllerStats {
  controller: Device;
  counts: Float64Array;
}

export class IrqStats {
  private readonly controllers: ControllerStats[] = [];

  constructor(machine: Machine) {
    for (const dev of machine.devices) {
      if (!(dev instanceof SystemControlSpace)) continue;
      const inputs = dev.lines.inputs.get('') ?? [];
      const stats: ControllerStats = { controller: dev, counts: new Float64Array(inputs.length) };
      this.controllers.push(stats);
      this.watchSources(machine, inputs, stats.counts);
    }
  }

  private watchSources(machine: Machine, inputs: readonly InputLine[], counts: Float64Array): void {
    const slot = new Map<InputLine, number>();
    for (const input of inputs) slot.set(input, input.index);
    for (const dev of machine.devices) {
      for (const outputs of dev.lines.outputs.values()) {
        for (const out of outputs) {
          for (const target of out.connections) {
            const index = slot.get(target);
            if (index === undefined) continue;
            let last = out.level;
            out.watch((level) => {
              if (level > 0 && last <= 0) counts[index]!++;
              last = level;
            });
          }
        }
      }
    }
  }

  /** QEMU's `info irq` text: per controller, the inputs raised at least once. */
  report(): string {
    let text = '';
    for (const { controller, counts } of this.controllers) {
      if (counts.length === 0) continue;
      text += `IRQ statistics for ${controller.typeName}:\n`;
      for (let i = 0; i < counts.length; i++) {
        if (counts[i]! > 0) text += `${String(i).padStart(2, ' ')}: ${counts[i]}\n`;
      }
    }
    return text;
  }

  /** Raise count of input `irq` of the first controller (tests, tools). */
  count(irq: number): number {
    return this.controllers[0]?.counts[irq] ?? 0;
  }
}

const statsByMachine = new WeakMap<Machine, IrqStats>();

/** The machine's interrupt counts, created (and counting from now on) at the first call. */
export function irqStatsFor(machine: Machine): IrqStats {
  let s = statsByMachine.get(machine);
  if (!s) {
    s = new IrqStats(machine);
    statsByMachine.set(machine, s);
  }
  return s;
}
