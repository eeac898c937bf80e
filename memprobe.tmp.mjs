const mods = process.argv.slice(2);
const mem = () => { globalThis.gc?.(); const m = process.memoryUsage(); return { rss: m.rss/1048576, heap: m.heapUsed/1048576, ext: m.external/1048576 }; };
let prev = mem();
console.log('base', prev.rss.toFixed(1), prev.heap.toFixed(1), prev.ext.toFixed(1));
for (const m of mods) { await import(m); const now = mem(); console.log(m.padEnd(40), 'rss+', (now.rss-prev.rss).toFixed(1), 'heap+', (now.heap-prev.heap).toFixed(1), 'ext+', (now.ext-prev.ext).toFixed(1)); prev = now; }
