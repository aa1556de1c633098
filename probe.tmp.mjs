import { readFileSync } from "node:fs";
const st = () => { globalThis.gc(); const s = readFileSync("/proc/self/status","utf8"); const g=(k)=>+s.match(new RegExp(k+":\\s+(\\d+)"))[1]/1024; const m=process.memoryUsage(); return `rss ${g("VmRSS").toFixed(1)} anon ${g("RssAnon").toFixed(1)} file ${g("RssFile").toFixed(1)} heapUsed ${(m.heapUsed/1048576).toFixed(2)}`;};
console.log("bare", st());
for (const spec of process.argv.slice(2)) { await import(spec); console.log(spec, st()); }
