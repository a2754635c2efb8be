import { Console, Effect } from "effect"

/** `--json`: exactly one JSON document on stdout; logs go to stderr. */
export const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))

export const printLine = (line: string) => Console.log(line)

/** A plain text table: header, separator, rows, columns padded to the widest cell. */
export const printTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) =>
  Effect.suspend(() => {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
    const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd()
    return Console.log([line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n"))
  })
