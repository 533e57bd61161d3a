// Records each file's buffered console output and live test-case events, so parity tests can
// compare them (--json has neither).
const fs = require('node:fs');

class ConsoleReporter {
  constructor(globalConfig, options) {
    this.file = (options && options.outputFile) || process.env.CONSOLE_REPORT_FILE;
    this.records = {};
    this.caseResults = {};
  }
  // Live per-test updates (IDEs, progress reporters) arrive through this hook.
  onTestCaseResult(test, testCaseResult) {
    const key = keyOf(test);
    this.caseResults[key] = this.caseResults[key] || [];
    this.caseResults[key].push(testCaseResult.fullName + ' ' + testCaseResult.status);
  }
  onTestResult(test, result) {
    this.records[keyOf(test)] = (result.console || []).map(({ type, message, origin }) => ({ type, message, origin }));
  }
  onRunComplete() {
    if (this.file) fs.writeFileSync(this.file, JSON.stringify({ console: this.records, caseResults: this.caseResults }, null, 2));
  }
}
// A file run by several `projects` is reported once per project.
function keyOf(test) {
  const name = test.context.config.displayName ? test.context.config.displayName.name : '';
  return `${test.path}\u0000${name}`;
}
module.exports = ConsoleReporter;
