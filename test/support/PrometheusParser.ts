/**
 * A small, strict reader of the Prometheus text exposition format 0.0.4 — enough to prove tisync's
 * /metrics parses: every sample belongs to a family announced by HELP and TYPE, names and labels are
 * well formed, label values unescape, values are floats. Throws on the first bad line.
 */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Exposition {
  readonly types: ReadonlyMap<string, string>
  readonly help: ReadonlyMap<string, string>
  readonly samples: ReadonlyArray<Sample>
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"])

const parseValue = (text: string, line: string): number => {
  if (text === "+Inf") return Infinity
  if (text === "-Inf") return -Infinity
  if (text === "NaN") return NaN
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value ${JSON.stringify(text)} in: ${line}`)
  return Number(text)
}

/** `{a="x",b="y\"z"}` starting at `i`; returns the labels and the index after `}`. */
const parseLabels = (line: string, start: number): { labels: Record<string, string>; end: number } => {
  const labels: Record<string, string> = {}
  let i = start + 1
  while (line[i] !== "}") {
    const eq = line.indexOf("=", i)
    if (eq < 0) throw new Error(`label without = in: ${line}`)
    const key = line.slice(i, eq)
    if (!LABEL.test(key)) throw new Error(`bad label name ${JSON.stringify(key)} in: ${line}`)
    if (line[eq + 1] !== '"') throw new Error(`label value not quoted in: ${line}`)
    let value = ""
    let j = eq + 2
    for (;;) {
      const c = line[j]
      if (c === undefined) throw new Error(`unterminated label value in: ${line}`)
      if (c === "\\") {
        const n = line[j + 1]
        if (n === "\\") value += "\\"
        else if (n === '"') value += '"'
        else if (n === "n") value += "\n"
        else throw new Error(`bad escape in: ${line}`)
        j += 2
        continue
      }
      if (c === '"') break
      if (c === "\n") throw new Error(`raw newline in label value: ${line}`)
      value += c
      j++
    }
    if (key in labels) throw new Error(`repeated label ${key} in: ${line}`)
    labels[key] = value
    i = j + 1
    if (line[i] === ",") i++
    else if (line[i] !== "}") throw new Error(`expected , or } in: ${line}`)
  }
  return { labels, end: i + 1 }
}

const familyOf = (name: string, types: ReadonlyMap<string, string>): string | undefined => {
  if (types.has(name)) return name
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length)
      const t = types.get(base)
      if (t === "histogram" || t === "summary") return base
    }
  }
  return undefined
}

export const parseExposition = (text: string): Exposition => {
  if (text !== "" && !text.endsWith("\n")) throw new Error("the exposition must end with a line feed")
  const types = new Map<string, string>()
  const help = new Map<string, string>()
  const samples: Array<Sample> = []
  for (const line of text.split("\n")) {
    if (line === "") continue
    if (line.startsWith("# HELP ")) {
      const [name, ...rest] = line.slice(7).split(" ")
      if (name === undefined || !NAME.test(name)) throw new Error(`bad HELP: ${line}`)
      if (help.has(name)) throw new Error(`second HELP for ${name}`)
      help.set(name, rest.join(" ").replace(/\\n/g, "\n").replace(/\\\\/g, "\\"))
      continue
    }
    if (line.startsWith("# TYPE ")) {
      const [name, type, extra] = line.slice(7).split(" ")
      if (name === undefined || !NAME.test(name) || type === undefined || !TYPES.has(type) || extra !== undefined) throw new Error(`bad TYPE: ${line}`)
      if (types.has(name)) throw new Error(`second TYPE for ${name}`)
      types.set(name, type)
      continue
    }
    if (line.startsWith("#")) continue
    const brace = line.indexOf("{")
    const space = line.indexOf(" ")
    const nameEnd = brace >= 0 && brace < space ? brace : space
    if (nameEnd <= 0) throw new Error(`bad sample: ${line}`)
    const name = line.slice(0, nameEnd)
    if (!NAME.test(name)) throw new Error(`bad metric name ${JSON.stringify(name)}`)
    let labels: Record<string, string> = {}
    let rest = line.slice(nameEnd)
    if (rest.startsWith("{")) {
      const parsed = parseLabels(line, nameEnd)
      labels = parsed.labels
      rest = line.slice(parsed.end)
    }
    if (!rest.startsWith(" ")) throw new Error(`expected a space before the value: ${line}`)
    const parts = rest.trim().split(/\s+/)
    if (parts.length < 1 || parts.length > 2) throw new Error(`bad value/timestamp: ${line}`)
    if (familyOf(name, types) === undefined) throw new Error(`sample of ${name} before its TYPE line`)
    samples.push({ name, labels, value: parseValue(parts[0] ?? "", line) })
  }
  return { types, help, samples }
}

/** The one sample of `name` whose labels include `labels`; throws when there are none or several. */
export const sampleValue = (exposition: Exposition, name: string, labels: Readonly<Record<string, string>> = {}): number => {
  const found = exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`)
  return found[0]?.value ?? NaN
}

/** The sum of every sample of `name` whose labels include `labels` (0 when none). */
export const sumOf = (exposition: Exposition, name: string, labels: Readonly<Record<string, string>> = {}): number =>
  exposition.samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0)
