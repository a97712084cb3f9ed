// Runs snowplow-analytics-sdk's transform over enriched TSV lines.
//
//   node analytics-sdk.js < enriched.tsv
//
// Prints one JSON line per input line: the event as the SDK shapes it. A line the SDK
// rejects makes the script report it (line number and the SDK's message) and exit 1.
'use strict';

const { transform } = require('snowplow-analytics-sdk');

const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const input = Buffer.concat(chunks).toString('utf8');
  const lines = input.split('\n');
  if (lines[lines.length - 1] === '') {
    lines.pop();
  }
  const errors = [];
  const out = [];
  lines.forEach((line, i) => {
    try {
      out.push(JSON.stringify(transform(line)));
    } catch (err) {
      errors.push(`line ${i + 1}: ${err.message}`);
    }
  });
  if (errors.length > 0) {
    console.error(errors.join('\n'));
    process.exit(1);
  }
  if (out.length > 0) {
    process.stdout.write(out.join('\n') + '\n');
  }
});
