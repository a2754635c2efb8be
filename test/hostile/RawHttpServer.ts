import * as http from "node:http"
import * as https from "node:https"
import { Context, Effect, Layer } from "effect"

/**
 * A tiny loopback server that answers with raw bytes, exactly as a hostile or broken upstream would: no
 * framework between the corpus body and the adapter under test. Every request is journalled.
 */
export interface RawResponse {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body: Buffer
  /** Send without Content-Length (chunked), in pieces of this many bytes. */
  readonly chunkBytes?: number
}

export interface RawRequest {
  readonly method: string
  readonly url: string
  readonly body: string
}

export interface RawServer {
  origin: string
  readonly journal: Array<RawRequest>
  /** What to answer; replaced per case. */
  handler: (request: RawRequest) => RawResponse
}

const send = (res: http.ServerResponse, r: RawResponse): void => {
  const headers: Record<string, string> = { "content-type": "application/json", ...r.headers }
  if (r.chunkBytes === undefined) {
    res.writeHead(r.status, { ...headers, "content-length": String(r.body.length) })
    res.end(r.body)
    return
  }
  res.writeHead(r.status, headers)
  for (let at = 0; at < r.body.length; at += r.chunkBytes) res.write(r.body.subarray(at, at + r.chunkBytes))
  res.end()
}

/** Starts the server on 127.0.0.1 (https when given a key pair); closed with the scope. */
export const rawServer = (tls?: { readonly cert: string; readonly key: string }) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: http.Server; readonly raw: RawServer }>((resume) => {
      const raw: RawServer = {
        origin: "",
        journal: [],
        handler: () => ({ status: 500, body: Buffer.from("no handler") })
      }
      const listener: http.RequestListener = (req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const request: RawRequest = { method: req.method ?? "", url: req.url ?? "", body: Buffer.concat(chunks).toString("utf8") }
          raw.journal.push(request)
          send(res, raw.handler(request))
        })
      }
      const server = tls === undefined ? http.createServer(listener) : https.createServer({ cert: tls.cert, key: tls.key }, listener)
      server.keepAliveTimeout = 1000
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        raw.origin = `${tls === undefined ? "http" : "https"}://127.0.0.1:${port}`
        resume(Effect.succeed({ server, raw }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ raw }) => raw))

export class RawServerTag extends Context.Tag("test/hostile/RawServer")<RawServerTag, RawServer>() {}

export const rawServerLayer = (tls?: { readonly cert: string; readonly key: string }): Layer.Layer<RawServerTag> =>
  Layer.scoped(RawServerTag, rawServer(tls))
