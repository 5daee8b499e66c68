// Render a batch of TeX snippets with KaTeX in one node process.
//
// Usage: node katex_batch.js /path/to/node_modules/katex  < request.json
// Request: {"items": [{"tex": "...", "display": true}, ...]}
// Reply on stdout, in the same order: {"results": [{"html": "..."} or {"error": "..."}]}
// A TeX error is reported per item; the process itself fails only on bad input.
"use strict";

const katex = require(process.argv[2] || "katex");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  input += chunk;
});
process.stdin.on("end", () => {
  const request = JSON.parse(input);
  const results = request.items.map(({ tex, display }) => {
    try {
      const html = katex.renderToString(tex, {
        displayMode: Boolean(display),
        output: "htmlAndMathml",
        throwOnError: true,
      });
      return { html };
    } catch (err) {
      return { error: String((err && err.message) || err) };
    }
  });
  process.stdout.write(JSON.stringify({ results }));
});
