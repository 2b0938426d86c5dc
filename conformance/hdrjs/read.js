// Reads HdrHistogram output with hdr-histogram-js, an implementation
// independent of the Go module's, and prints what it finds.
//
// Input (stdin), JSON: {"percentiles": [50, 99.9, ...],
//   "logs": {"name": "<.hlog text>", ...},
//   "encoded": {"name": "<V2 compressed base64 histogram>", ...}}
// Output (stdout), JSON: {"name": {"count": n, "min": v, "max": v,
//   "values": [value at each percentile]}, ...}; a log's intervals are
//   added into one histogram of 1 ns lowest discernible value, 10 minutes
//   highest trackable value and 3 significant figures, as log processors do.
"use strict";
const hdr = require("hdr-histogram-js");

function summary(h, percentiles) {
  return {
    count: h.totalCount,
    min: h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.minNonZeroValue,
    max: h.maxValue,
    values: percentiles.map((p) => h.getValueAtPercentile(p)),
  };
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const req = JSON.parse(input);
  const out = {};
  for (const [name, text] of Object.entries(req.logs || {})) {
    const sum = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 600e9,
      numberOfSignificantValueDigits: 3,
    });
    const reader = new hdr.HistogramLogReader(text);
    let intervals = 0;
    for (let h; (h = reader.nextIntervalHistogram()) !== null; intervals++) {
      sum.add(h);
    }
    out["log:" + name] = { intervals, ...summary(sum, req.percentiles) };
  }
  for (const [name, b64] of Object.entries(req.encoded || {})) {
    out["encoded:" + name] = summary(hdr.decodeFromCompressedBase64(b64), req.percentiles);
  }
  process.stdout.write(JSON.stringify(out));
});
