// `npm run bench -- <name>`: runs bench/<name>.mjs's `run()` (each benchmark writes bench/results/<name>.json).
const name = process.argv[2]
if (name === undefined || !/^[a-z0-9-]+$/.test(name)) {
  console.error("usage: npm run bench -- <name>   (e.g. sink, source)")
  process.exit(2)
}
await (await import(`./${name}.mjs`)).run()
