/** `-chardev null`: output is discarded, no input ever arrives. */
import { Chardev, type ChardevCommonOptions } from './chardev.js';

export class NullChardev extends Chardev {
  constructor(id: string, common: ChardevCommonOptions = {}) {
    super('chardev-null', id, common);
  }

  get filename(): string {
    return 'null';
  }

  protected output(_data: Uint8Array): void {}
}
