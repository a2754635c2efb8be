import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import {
  CORPUS_DIR,
  corpusFiles,
  type HostileCase,
  KEYS_OF_KIND,
  loadCorpus,
  OUTCOME_KEYS,
  parseCase,
  RUNNER_OF_KIND
} from "./HostileCorpus.js"

/**
 * The corpus is only worth something if every case runs: each file must follow the convention of
 * test/fixtures/hostile/README.md, and its kind must belong to a runner that feeds it to the real edge.
 */

const RUNNERS_DIR = new URL(".", import.meta.url).pathname

describe("the hostile input corpus", () => {
  const files = corpusFiles()
  const cases = loadCorpus()

  it("holds at least 60 cases, every file a .case file with a README beside them", () => {
    expect(fs.existsSync(path.join(CORPUS_DIR, "README.md"))).toBe(true)
    expect(files.filter((f) => !f.endsWith(".case")), "files the runners would not load").toEqual([])
    expect(cases.length).toBeGreaterThanOrEqual(60)
  })

  it("every case says what it is and what must happen, and states at least one checked outcome", () => {
    for (const c of cases) {
      expect(c.what.length, c.name).toBeGreaterThan(10)
      expect(c.expect.length, c.name).toBeGreaterThan(10)
      expect(c.header.some(([k]) => OUTCOME_KEYS.includes(k)), `${c.name}: no checked outcome`).toBe(true)
    }
  })

  it("every header key of a case is one its runner reads (none is silently ignored)", () => {
    const ignored = (c: HostileCase) =>
      c.header.map(([k]) => k).filter((k) => !["what", "expect", "kind"].includes(k) && !KEYS_OF_KIND[c.kind].includes(k))
    for (const c of cases) expect(ignored(c), c.name).toEqual([])
  })

  it("every kind is run by a runner that loads its cases", () => {
    for (const c of cases) {
      const runner = path.join(RUNNERS_DIR, RUNNER_OF_KIND[c.kind])
      expect(fs.existsSync(runner), `${c.name}: runner ${RUNNER_OF_KIND[c.kind]}`).toBe(true)
      expect(fs.readFileSync(runner, "utf8"), `${c.name}: ${RUNNER_OF_KIND[c.kind]} must iterate casesOf("${c.kind}")`).toContain(`casesOf("${c.kind}")`)
    }
  })

  it("a header that breaks the convention is refused, not skipped", () => {
    expect(() => parseCase("x.case", "# what: something long enough\n# expect: something long enough\n# kind: tc-page\n# recrods: 2\n{}")).toThrow(/unknown header key/)
    expect(() => parseCase("x.case", "# what: something long enough\n# expect: something long enough\n# kind: nope\n{}")).toThrow(/unknown kind/)
    expect(() => parseCase("x.case", "# what: something long enough\n# kind: tc-page\n{}")).toThrow(/expect/)
  })

  it("covers every category of issue 6 item 4", () => {
    const names = cases.map((c) => c.name)
    const topics = [
      "record-missing", "record-owner-name-number", "id-above-2-53", "ip-cidr", "ip-private", "ip-loopback", "ip-link-local",
      "ip-multicast", "ip-reserved", "ipv6-compressed-and-mixed", "hash-wrong-length", "hash-non-hex", "url-without-scheme",
      "url-with-credentials", "domain-idn", "domain-homoglyph", "description-100kb", "tags-100kb", "control-chars", "nul-in",
      "json-injection", "html-injection", "tql-injection", "next-off-host", "malformed-", "body-over-bound",
      "import-unknown-fields", "import-missing", "import-wrong-types", "import-html", "list-unknown-fields", "list-missing-fields",
      "list-wrong-types", "list-html", "token-html", "unknown-key", "wrong-type", "negative", "huge", "wrong-enum"
    ]
    for (const t of topics) expect(names.some((n) => n.includes(t)), `no case about ${t}`).toBe(true)
    for (const kind of Object.keys(RUNNER_OF_KIND)) expect(cases.some((c) => c.kind === kind), `no ${kind} case`).toBe(true)
  })
})
