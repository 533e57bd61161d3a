// A watch plugin that appends an `idle` record to WATCH_REPORT_FILE when Jest has finished a run
// and takes keys again (its onTestRunComplete hook runs right after Jest clears its "running"
// flag; a reporter's onRunComplete comes earlier, while a key press would still only interrupt).
const fs = require('node:fs');

class WatchIdlePlugin {
  apply(jestHooks) {
    jestHooks.onTestRunComplete(() => {
      fs.appendFileSync(process.env.WATCH_REPORT_FILE, `${JSON.stringify({ type: 'idle', at: Date.now() })}\n`);
    });
  }
}
module.exports = WatchIdlePlugin;
