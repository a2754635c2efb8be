import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node"
import * as https from "node:https"
import { rootCertificates } from "node:tls"

/**
 * An MSAL `system.networkClient` on node:https that trusts the public roots plus one extra CA (PEM),
 * so in-process tests and `tisync demo` can reach the simulator's TLS identity endpoint without
 * NODE_EXTRA_CA_CERTS (reference/defender-api.md §1.4, "test seams"). Verification stays on.
 */
export const makeTlsNetworkClient = (extraCaPem: string, timeoutMillis = 30_000): INetworkModule => {
  const ca = [...rootCertificates, extraCaPem]
  const request = <T>(method: "GET" | "POST", url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> =>
    new Promise((resolve, reject) => {
      const body = method === "POST" ? (options?.body ?? "") : undefined
      const headers: Record<string, string | number> = { ...(options?.headers ?? {}) }
      if (body !== undefined) headers["content-length"] = Buffer.byteLength(body)
      const req = https.request(url, { method, headers, ca, timeout: timeout ?? timeoutMillis }, (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("error", reject)
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8")
          const out: Record<string, string> = {}
          for (const [k, v] of Object.entries(res.headers)) {
            if (typeof v === "string") out[k.toLowerCase()] = v
            else if (Array.isArray(v)) out[k.toLowerCase()] = v.join(", ")
          }
          try {
            resolve({ headers: out, body: JSON.parse(text.length === 0 ? "{}" : text), status: res.statusCode ?? 0 })
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)))
          }
        })
      })
      req.on("timeout", () => req.destroy(new Error(`request to ${new URL(url).origin} timed out`)))
      req.on("error", reject)
      if (body !== undefined) req.write(body)
      req.end()
    })
  return {
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions, timeout?: number) => request<T>("GET", url, options, timeout),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => request<T>("POST", url, options)
  }
}
