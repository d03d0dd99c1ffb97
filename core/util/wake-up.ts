/**
 * A wait that ends after `ms` or at `wake()`, whichever comes first (one waiter at a time): the
 * idle wait of a loop that something else can end early.
 *
 * @example const idle = new WakeUp(); await idle.wait(200); // elsewhere: idle.wake();
 */
export class WakeUp {
  private nudge?: () => void;

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        if (self.nudge === done) self.nudge = undefined;
        resolve();
      }
      this.nudge = done;
    });
  }

  /** Ends the wait in progress now (nothing when none is). */
  wake(): void {
    this.nudge?.();
  }
}
