/**
 * A tiny HTML template whose interpolations are escaped unless they are `Html` already. The report shows
 * indicator values, reasons and error texts that come from ThreatConnect and Defender: hostile input.
 * Escaping by construction means a forgotten call cannot let one of them become markup.
 */
export class Html {
  constructor(readonly text: string) {}
}

export type HtmlPart = Html | string | number | ReadonlyArray<Html>

/** Text and attribute values alike: `&`, `<`, `>`, both quotes. */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case "&":
        return "&amp;"
      case "<":
        return "&lt;"
      case ">":
        return "&gt;"
      case '"':
        return "&quot;"
      default:
        return "&#39;"
    }
  })

const render = (part: HtmlPart): string => {
  if (part instanceof Html) return part.text
  if (typeof part === "string") return escapeHtml(part)
  if (typeof part === "number") return escapeHtml(String(part))
  return part.map((p) => p.text).join("")
}

export const html = (strings: TemplateStringsArray, ...parts: ReadonlyArray<HtmlPart>): Html => {
  let out = strings[0] ?? ""
  parts.forEach((part, i) => {
    out += render(part) + (strings[i + 1] ?? "")
  })
  return new Html(out)
}
