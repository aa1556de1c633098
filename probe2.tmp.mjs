import { readFileSync } from "node:fs";
await import(process.argv[2]);
globalThis.gc();
setTimeout(()=>{
const sm = readFileSync("/proc/self/smaps","utf8").split("\n");
let cur=null; const out=[];
for (const l of sm) { const m=l.match(/^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+\S+\s+\S+\s+\S+\s*(.*)$/); if(m){cur={size:(parseInt(m[2],16)-parseInt(m[1],16))/1024,perm:m[3],name:m[4]||"[anon]"};out.push(cur);continue;} const r=l.match(/^Rss:\s+(\d+)/); if(r&&cur) cur.rss=+r[1]; }
const anon=out.filter(x=>x.name==="[anon]"||x.name==="[heap]"||x.name.startsWith("[stack")).sort((a,b)=>b.rss-a.rss);
console.log(anon.slice(0,15).map(x=>`${x.rss}kB of ${x.size}kB ${x.perm} ${x.name}`).join("\n"));
console.log("total anon rss", anon.reduce((a,x)=>a+x.rss,0));
console.log(process.memoryUsage());
process.exit(0)},300);
