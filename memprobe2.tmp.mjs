const mem = () => { globalThis.gc?.(); const m = process.memoryUsage(); return { rss: m.rss/1048576, heap: m.heapUsed/1048576, ext: m.external/1048576 }; };
let prev = mem();
for (const m of process.argv.slice(2)) { await import(m); const now = mem(); console.log(m.padEnd(40), 'rss+', (now.rss-prev.rss).toFixed(1), 'heap+', (now.heap-prev.heap).toFixed(1), 'ext+', (now.ext-prev.ext).toFixed(1)); prev = now; }
