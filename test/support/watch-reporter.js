// Appends one JSON line per watch-mode run to WATCH_REPORT_FILE: when it started, and when it
// completed, with each file's and test's status and failure messages (what both runners must agree on).
const fs = require('node:fs');

class WatchReporter {
  constructor() {
    this.file = process.env.WATCH_REPORT_FILE;
  }
  onRunStart() {
    fs.appendFileSync(this.file, `${JSON.stringify({ type: 'start', at: Date.now() })}\n`);
  }
  onRunComplete(_contexts, results) {
    const files = results.testResults
      .map((f) => ({
        path: f.testFilePath,
        failureMessage: f.testExecError ? f.testExecError.message : null,
        tests: f.testResults.map((t) => ({ name: t.fullName, status: t.status, failureMessages: t.failureMessages.map((m) => m.split('\n')[0]) })),
        console: (f.console || []).map((c) => c.message),
      }))
      .sort((a, b) => a.path.localeCompare(b.path));
    const line = {
      type: 'complete',
      at: Date.now(),
      interrupted: Boolean(results.wasInterrupted),
      numTotalTests: results.numTotalTests,
      numFailedTests: results.numFailedTests,
      files,
    };
    fs.appendFileSync(this.file, `${JSON.stringify(line)}\n`);
  }
}
module.exports = WatchReporter;
