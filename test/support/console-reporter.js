// Records each file's buffered console output, so parity tests can compare it (--json omits it).
const fs = require('node:fs');

class ConsoleReporter {
  constructor(globalConfig, options) {
    this.file = (options && options.outputFile) || process.env.CONSOLE_REPORT_FILE;
    this.records = {};
  }
  onTestResult(test, result) {
    this.records[result.testFilePath] = (result.console || []).map(({ type, message, origin }) => ({ type, message, origin }));
  }
  onRunComplete() {
    if (this.file) fs.writeFileSync(this.file, JSON.stringify(this.records, null, 2));
  }
}
module.exports = ConsoleReporter;
