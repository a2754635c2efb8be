import * as fs from "node:fs"
import * as path from "node:path"

/**
 * The hostile input corpus (issue 6 item 4) as data: every file under `test/fixtures/hostile/` is one case,
 * written in the convention of `test/fixtures/hostile/README.md`: leading `# key: value` header lines (what it
 * is, what must happen, and the machine-checked expectations), then the raw body exactly as a server or a
 * config file would hold it, with a few placeholders expanded at load time.
 */
export const CORPUS_DIR = new URL("../fixtures/hostile", import.meta.url).pathname

/** Every kind of case and the runner (a test file in this folder) that feeds it through the real edge. */
export const RUNNER_OF_KIND = {
  "tc-page": "threatconnect.test.ts",
  "defender-import": "defender.test.ts",
  "defender-list": "defender.test.ts",
  "defender-submit": "defender.test.ts",
  "defender-token": "defender.test.ts",
  "config-yaml": "config.test.ts",
  "config-json": "config.test.ts"
} as const
export type CaseKind = keyof typeof RUNNER_OF_KIND

const isKind = (k: string): k is CaseKind => Object.hasOwn(RUNNER_OF_KIND, k)

/** Header keys a case may use (anything else is a typo, and fails the corpus test). */
export const HEADER_KEYS = [
  // every case
  "what", "expect", "kind",
  // how the body is served
  "status", "content-type", "chunked", "max-response-bytes", "header", "serve",
  // ThreatConnect outcome
  "records", "accepted", "rejected", "accept", "reject", "map", "requests",
  // Defender outcome
  "outcome", "items", "skipped",
  // config outcome / CLI
  "cli",
  // any kind: a typed failure, and what its message must not contain
  "error", "not-in-error"
] as const
export type HeaderKey = (typeof HEADER_KEYS)[number]

/** Which header keys each kind's runner reads: any other key on a case would be silently ignored, so it fails. */
export const KEYS_OF_KIND: Readonly<Record<CaseKind, ReadonlyArray<HeaderKey>>> = {
  "tc-page": ["status", "content-type", "chunked", "max-response-bytes", "header", "serve", "records", "accepted", "rejected", "accept", "reject", "map", "requests", "error", "not-in-error"],
  "defender-import": ["status", "content-type", "header", "chunked", "max-response-bytes", "outcome", "requests", "error", "not-in-error"],
  "defender-list": ["status", "content-type", "header", "chunked", "max-response-bytes", "outcome", "items", "skipped", "requests", "error", "not-in-error"],
  "defender-submit": ["status", "content-type", "header", "chunked", "max-response-bytes", "outcome", "requests", "error", "not-in-error"],
  "defender-token": ["status", "content-type", "header", "outcome", "requests", "error", "not-in-error"],
  "config-yaml": ["outcome", "cli", "error", "not-in-error"],
  "config-json": ["outcome", "cli", "error", "not-in-error"]
}

/** Keys that state a checked outcome: every case needs at least one. */
export const OUTCOME_KEYS: ReadonlyArray<HeaderKey> = ["error", "records", "accepted", "rejected", "accept", "reject", "map", "outcome", "items"]

export interface HostileCase {
  /** Path relative to the corpus folder, e.g. `threatconnect/id-above-2-53.case`. */
  readonly name: string
  readonly kind: CaseKind
  readonly what: string
  readonly expect: string
  /** Every header line, in order (keys repeat: `reject`, `map`, `accept`...). */
  readonly header: ReadonlyArray<readonly [HeaderKey, string]>
  /** The body with placeholders still in it (see `expandBody`). */
  readonly rawBody: string
}

const HEADER_LINE = /^#\s*([a-z-]+):\s?(.*)$/

export class CorpusFormatError extends Error {
  override readonly name = "CorpusFormatError"
}

/** Parses one case file; throws CorpusFormatError naming the file when the header breaks the convention. */
export const parseCase = (name: string, text: string): HostileCase => {
  const lines = text.split("\n")
  const header: Array<readonly [HeaderKey, string]> = []
  let i = 0
  for (; i < lines.length; i++) {
    const line = lines[i] ?? ""
    if (!line.startsWith("#")) break
    const m = HEADER_LINE.exec(line)
    if (m === null) {
      // a continuation of the previous value (long `what` / `expect` texts)
      const previous = header.pop()
      if (previous === undefined || !/^#\s{2,}/.test(line)) throw new CorpusFormatError(`${name}: header line ${i + 1} is not "# key: value"`)
      header.push([previous[0], `${previous[1]} ${line.replace(/^#\s+/, "")}`])
      continue
    }
    const key = m[1] ?? ""
    const known = HEADER_KEYS.find((k) => k === key)
    if (known === undefined) throw new CorpusFormatError(`${name}: unknown header key "${key}"`)
    header.push([known, (m[2] ?? "").trim()])
  }
  const one = (key: HeaderKey): string => {
    const values = header.filter(([k]) => k === key)
    if (values.length !== 1) throw new CorpusFormatError(`${name}: needs exactly one "# ${key}:" line`)
    return values[0]?.[1] ?? ""
  }
  const kind = one("kind")
  if (!isKind(kind)) throw new CorpusFormatError(`${name}: unknown kind "${kind}"`)
  const what = one("what")
  const expect = one("expect")
  if (what.length < 10 || expect.length < 10) throw new CorpusFormatError(`${name}: "what" and "expect" must say something`)
  return { name, kind, what, expect, header, rawBody: lines.slice(i).join("\n") }
}

const listFiles = (dir: string, prefix = ""): ReadonlyArray<string> =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? listFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]
    )
    .sort()

/** Every file of the corpus except its README (a non-`.case` file is reported by the corpus test). */
export const corpusFiles = (): ReadonlyArray<string> => listFiles(CORPUS_DIR).filter((f) => f !== "README.md")

let loaded: ReadonlyArray<HostileCase> | null = null
export const loadCorpus = (): ReadonlyArray<HostileCase> => {
  if (loaded === null) {
    loaded = corpusFiles()
      .filter((f) => f.endsWith(".case"))
      .map((f) => parseCase(f, fs.readFileSync(path.join(CORPUS_DIR, f), "utf8")))
  }
  return loaded
}

/** The cases of one kind: what a runner iterates over (the corpus test checks every kind has its runner). */
export const casesOf = (kind: CaseKind): ReadonlyArray<HostileCase> => loadCorpus().filter((c) => c.kind === kind)

export const values = (c: HostileCase, key: HeaderKey): ReadonlyArray<string> =>
  c.header.filter(([k]) => k === key).map(([, v]) => v)

export const optional = (c: HostileCase, key: HeaderKey): string | undefined => {
  const all = values(c, key)
  if (all.length > 1) throw new CorpusFormatError(`${c.name}: "# ${key}:" given more than once`)
  return all[0]
}

export const optionalInt = (c: HostileCase, key: HeaderKey): number | undefined => {
  const v = optional(c, key)
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v)) throw new CorpusFormatError(`${c.name}: "# ${key}:" is not a whole number`)
  return Number(v)
}

/** `Tag ~ substring` (the substring is optional): the expected typed failure. */
export interface ExpectedError {
  readonly tag: string
  readonly fields: Readonly<Record<string, string>>
  readonly mentions: ReadonlyArray<string>
}

/** `# error: Tag key=value ... ~ text ~ other text`. */
export const expectedError = (c: HostileCase): ExpectedError | undefined => {
  const v = optional(c, "error")
  if (v === undefined) return undefined
  const [head = "", ...mentions] = v.split(" ~ ")
  const [tag = "", ...pairs] = head.trim().split(/\s+/)
  const fields: Record<string, string> = {}
  for (const p of pairs) {
    const eq = p.indexOf("=")
    if (eq < 0) throw new CorpusFormatError(`${c.name}: "# error:" field "${p}" is not key=value`)
    fields[p.slice(0, eq)] = p.slice(eq + 1)
  }
  return { tag, fields, mentions: mentions.map((m) => m.trim()) }
}

/** Splits `left ~ right` (right optional). */
export const splitTilde = (v: string): readonly [string, string | undefined] => {
  const at = v.indexOf(" ~ ")
  return at < 0 ? [v.trim(), undefined] : [v.slice(0, at).trim(), v.slice(at + 3).trim()]
}

/**
 * The body as bytes, placeholders expanded:
 * - `{{origin}}`: the origin of the loopback server serving the case (`http://127.0.0.1:PORT`);
 * - `{{repeat:N:TEXT}}`: TEXT repeated N times (big strings without committing big files; TEXT holds no `}}`);
 * - `{{byte:XX}}`: the raw byte 0xXX (control characters and invalid UTF-8 without binary files).
 * A trailing newline of the file is not part of the body.
 */
export const expandBody = (c: HostileCase, vars: { readonly origin?: string } = {}): Buffer => {
  const text = c.rawBody.replace(/\n$/, "")
  const parts: Array<Buffer> = []
  let last = 0
  const re = /\{\{(origin|repeat:(\d+):([\s\S]*?)|byte:([0-9a-fA-F]{2}))\}\}/g
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    parts.push(Buffer.from(text.slice(last, m.index), "utf8"))
    if (m[1] === "origin") {
      if (vars.origin === undefined) throw new CorpusFormatError(`${c.name}: {{origin}} used where no server runs`)
      parts.push(Buffer.from(vars.origin, "utf8"))
    } else if (m[2] !== undefined) {
      parts.push(Buffer.from((m[3] ?? "").repeat(Number(m[2])), "utf8"))
    } else {
      parts.push(Buffer.from([parseInt(m[4] ?? "0", 16)]))
    }
    last = m.index + m[0].length
  }
  parts.push(Buffer.from(text.slice(last), "utf8"))
  return Buffer.concat(parts)
}
