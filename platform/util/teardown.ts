import type { Logger } from './log.ts';
import { errorMessage } from './time.ts';

/** Undo steps run in reverse order of setup; one failing step never stops the others. */
export class TeardownStack {
  private readonly steps: Array<{ label: string; run: () => Promise<unknown> | unknown }> = [];

  push(label: string, run: () => Promise<unknown> | unknown): void {
    this.steps.push({ label, run });
  }

  async run(log: Logger): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop();
      if (!step) break;
      try {
        await step.run();
      } catch (error) {
        log.warn(`teardown: ${step.label} failed: ${errorMessage(error)}`);
      }
    }
  }
}
