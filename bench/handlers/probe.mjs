// Node.js benchmark handlers, the counterparts of probe.py: `silent` and `loud` note the wall time at their
// first line, keyed by the first record's partition key, in the file named by BENCH_PROBE_FILE; `loud` also
// logs, `silent` writes nothing to stdout or stderr. `noop` measures invoke overhead.
import fs from "node:fs";

const PROBE = process.env.BENCH_PROBE_FILE;
const fd = PROBE ? fs.openSync(PROBE, "a") : -1;

// Epoch seconds with sub-millisecond digits (Date.now() has whole milliseconds only).
const now = () => (performance.timeOrigin + performance.now()) / 1000;

export const silent = async (event) => {
  const entered = now();
  const key = event.Records[0].kinesis.partitionKey;
  fs.writeSync(fd, `${key} ${entered}\n`);
  return {};
};

export const loud = async (event) => {
  const entered = now();
  const key = event.Records[0].kinesis.partitionKey;
  fs.writeSync(fd, `${key} ${entered}\n`);
  console.log(`got ${event.Records.length} record(s), first ${key}`);
  return {};
};

export const noop = async () => ({ ok: true });
