import { createHmac } from "node:crypto"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Redacted, Stream, TestClock } from "effect"
import { makeThreatConnectSource, ThreatConnectHmac } from "@tisync/adapters"
import { buildTql } from "@tisync/domain"
import { policy } from "./IndicatorSourceConformance.js"

/** Computed here with node:crypto, independently of the adapter's signer (reference/threatconnect-api.md §1b). */
const expected = (secret: string, signed: string) => createHmac("sha256", secret).update(signed).digest("base64")

describe("ThreatConnect HMAC signature (golden)", () => {
  const secret = "aB3/+x=Secret"
  const ts = 1513703787

  it("the documentation's example string: path with /api, query as sent, METHOD, timestamp", () => {
    const pathAndQuery = "/api/v2/indicators/hosts/example.com?Owner=Common%20Community"
    expect(ThreatConnectHmac.stringToSign(pathAndQuery, "GET", ts)).toBe(`${pathAndQuery}:GET:1513703787`)
    expect(ThreatConnectHmac.hmacSignature(secret, pathAndQuery, "GET", ts)).toBe(expected(secret, `${pathAndQuery}:GET:1513703787`))
    expect(ThreatConnectHmac.hmacAuthorization("12345", secret, pathAndQuery, "GET", ts)).toBe(
      `TC 12345:${expected(secret, `${pathAndQuery}:GET:1513703787`)}`
    )
  })

  it("a query with spaces, quotes and parentheses, encoded strictly and signed as encoded", () => {
    const tql = `typeName IN ("Address","Host") AND summary = "O'Brien \\"x\\"" AND (rating >= 3)`
    const encoded = ThreatConnectHmac.encodeQueryComponent(tql)
    expect(encoded).toBe("typeName%20IN%20%28%22Address%22%2C%22Host%22%29%20AND%20summary%20%3D%20%22O%27Brien%20%5C%22x%5C%22%22%20AND%20%28rating%20%3E%3D%203%29")
    const pathAndQuery = `/api/v3/indicators?tql=${encoded}&fields=tags&fields=attributes&resultStart=0&resultLimit=10000`
    // What Node puts on the wire is exactly what was signed: WHATWG URL parsing leaves it unchanged.
    const url = new URL(`https://app.threatconnect.com${pathAndQuery}`)
    expect(url.pathname + url.search).toBe(pathAndQuery)
    expect(ThreatConnectHmac.hmacSignature(secret, pathAndQuery, "GET", ts)).toBe(expected(secret, `${pathAndQuery}:GET:${ts}`))
    expect(expected(secret, `${pathAndQuery}:GET:${ts}`)).toBe("TaCkJaYDZNCnwjyG3s92zhIHXZzOAfEBGz6Q+wRYMwM=") // openssl dgst -sha256 -hmac, independently
  })

  it("tcex's +-encoded form signs its own bytes (the server checks the raw query as received)", () => {
    const pathAndQuery = "/api/v3/indicators?tql=typeName+in+%28%22Address%22%2C%22Host%22%29+and+lastModified+%3E%3D+%222024-01-01+00%3A00%3A00%22&fields=tags&fields=attributes&resultLimit=10000&resultStart=0"
    expect(ThreatConnectHmac.hmacSignature(secret, pathAndQuery, "GET", ts)).toBe(expected(secret, `${pathAndQuery}:GET:${ts}`))
  })

  it.effect("the adapter signs the first request and the next link verbatim", () =>
    Effect.gen(function* () {
      const seen: Array<{ url: string; authorization: string; timestamp: string }> = []
      let port = 0
      const server = createServer((req, res) => {
        seen.push({ url: req.url ?? "", authorization: req.headers.authorization ?? "", timestamp: String(req.headers.timestamp) })
        const body = seen.length === 1
          ? { status: "Success", data: [], next: `http://127.0.0.1:${port}/api/v3/indicators?tql=ownerName+IN+%28%22ACME%22%29&fields=tags&resultStart=7&resultLimit=7&sorting=lastModified%20asc` }
          : { status: "Success", data: [] }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body))
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.async<void>((resume) => { server.closeAllConnections(); server.close(() => resume(Effect.void)) })
      )
      const address: AddressInfo | string | null = server.address()
      port = address !== null && typeof address === "object" ? address.port : 0
      yield* TestClock.setTime(ts * 1000 + 999)
      const source = yield* makeThreatConnectSource({
        apiUrl: `http://127.0.0.1:${port}/api`,
        auth: { _tag: "Hmac", accessId: "12345", secretKey: Redacted.make(secret) },
        resultLimit: 7,
        fields: ["tags"]
      }).pipe(Effect.provide(NodeHttpClient.layer))
      const p = policy({ owners: ["ACME"], indicatorTypes: ["Host"] })
      yield* Stream.runDrain(source.indicators({ policy: p, since: null }))
      expect(seen).toHaveLength(2)
      const tql = buildTql(p, null)
      expect(tql._tag === "Query" && seen[0]?.url).toBe(
        `/api/v3/indicators?tql=${ThreatConnectHmac.encodeQueryComponent(tql._tag === "Query" ? tql.tql : "")}&fields=tags&resultStart=0&resultLimit=7&sorting=lastModified%20asc`
      )
      expect(seen[1]?.url).toBe("/api/v3/indicators?tql=ownerName+IN+%28%22ACME%22%29&fields=tags&resultStart=7&resultLimit=7&sorting=lastModified%20asc")
      for (const s of seen) {
        expect(s.timestamp).toBe(String(ts))
        expect(s.authorization).toBe(`TC 12345:${expected(secret, `${s.url}:GET:${ts}`)}`)
      }
    }).pipe(Effect.scoped))
})
