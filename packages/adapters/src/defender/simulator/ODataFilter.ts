/** Minimal OData `$filter`: `f eq 'v'`, `f ne 'v'`, `f eq true`, `contains(f,'v')`, `startswith(f,'v')`, joined by and/or. */
export const compileFilter = (filter: string): ((i: Record<string, unknown>) => boolean) | null => {
  const parts = filter.split(/\s+(and|or)\s+/i)
  const preds: Array<(i: Record<string, unknown>) => boolean> = []
  const ops: Array<string> = []
  for (let k = 0; k < parts.length; k++) {
    const p = (parts[k] ?? "").trim()
    if (k % 2 === 1) {
      ops.push(p.toLowerCase())
      continue
    }
    let m = /^(\w+)\s+(eq|ne)\s+'((?:[^']|'')*)'$/i.exec(p)
    if (m !== null) {
      const [, f = "", op = "", raw = ""] = m
      const v = raw.replace(/''/g, "'")
      preds.push((i) => (op.toLowerCase() === "eq") === (String(i[f] ?? "").toLowerCase() === v.toLowerCase()))
      continue
    }
    m = /^(\w+)\s+(eq|ne)\s+(true|false)$/i.exec(p)
    if (m !== null) {
      const [, f = "", op = "", b = ""] = m
      preds.push((i) => (op.toLowerCase() === "eq") === (i[f] === (b.toLowerCase() === "true")))
      continue
    }
    m = /^(contains|startswith)\((\w+),\s*'((?:[^']|'')*)'\)$/i.exec(p)
    if (m !== null) {
      const [, fn = "", f = "", raw = ""] = m
      const v = raw.replace(/''/g, "'").toLowerCase()
      preds.push((i) => {
        const s = String(i[f] ?? "").toLowerCase()
        return fn.toLowerCase() === "contains" ? s.includes(v) : s.startsWith(v)
      })
      continue
    }
    return null
  }
  return (i) => {
    let acc = preds[0]?.(i) ?? true
    for (let k = 1; k < preds.length; k++) {
      const v = preds[k]?.(i) ?? true
      acc = ops[k - 1] === "or" ? acc || v : acc && v
    }
    return acc
  }
}

