import { spawn } from "node:child_process"
import * as path from "node:path"
import {
  startDefenderSimulator,
  startThreatConnectSimulator,
  TC_SIM_API_TOKEN,
  type ThreatConnectSimulator
} from "@tisync/adapters"
import { pgliteDataDir } from "../support/pglite.js"
import { freshPostgresDatabase } from "../support/postgres.js"

const ROOT = path.resolve(import.meta.dirname, "../..")
const BIN = path.join(ROOT, "packages/app/bin/tisync.js")
const TEST_CA = path.join(ROOT, "test/fixtures/tls/ca.pem")

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** stdout parsed as JSON (when --json was passed). */
  readonly json: unknown
}

export type StoreKind = "pglite" | "postgres"

type DefenderHandle = Awaited<ReturnType<typeof startDefenderSimulator>>

/**
 * One tenant and one ThreatConnect instance (both simulators, in this process, on loopback) and a fresh
 * store, driven through the built `tisync` binary exactly as a user or another tool would: the DESIGN §7
 * environment variables, flags, JSON on stdout and exit codes.
 */
export class CliWorld {
  private constructor(
    readonly tcToken: string,
    readonly tc: ThreatConnectSimulator,
    readonly defender: DefenderHandle,
    readonly storeEnv: Readonly<Record<string, string>>,
    private readonly dropDatabase: () => Promise<void>
  ) {}

  static async start(
    kind: StoreKind,
    options: {
      readonly indicators?: number
      readonly seed?: number
      /** Credentials the simulators accept (default: the simulators' own test values). */
      readonly tcToken?: string
      readonly clientSecret?: string
      /** More tenants the Defender simulator's token endpoint serves (targets on other simulators). */
      readonly otherTenants?: ReadonlyArray<string>
    } = {}
  ) {
    const tc = await startThreatConnectSimulator({
      indicators: options.indicators ?? 0,
      seed: options.seed ?? 7,
      epoch: Date.now(),
      apiTokens: [options.tcToken ?? TC_SIM_API_TOKEN]
    })
    const defender = await startDefenderSimulator({
      rateLimits: true,
      ...(options.clientSecret === undefined ? {} : { clientSecret: options.clientSecret }),
      ...(options.otherTenants === undefined ? {} : { otherTenants: options.otherTenants })
    })
    if (kind === "postgres") {
      const db = await freshPostgresDatabase()
      return new CliWorld(options.tcToken ?? TC_SIM_API_TOKEN, tc, defender, { TISYNC_DATABASE_URL: db.url }, db.drop)
    }
    return new CliWorld(options.tcToken ?? TC_SIM_API_TOKEN, tc, defender, { TISYNC_DATA_DIR: pgliteDataDir() }, async () => {})
  }

  /** The environment a user would set, pointing at the simulators. */
  env(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    const sim = this.defender.simulator
    const inherited: Record<string, string> = {}
    for (const key of ["PATH", "HOME", "TMPDIR", "LANG"]) {
      const v = process.env[key]
      if (v !== undefined) inherited[key] = v
    }
    return {
      ...inherited,
      TC_API_URL: this.tc.apiUrl,
      TC_API_TOKEN: this.tcToken,
      AZURE_TENANT_ID: sim.tenantId,
      AZURE_CLIENT_ID: sim.clientId,
      AZURE_CLIENT_SECRET: sim.clientSecret,
      AZURE_AUTHORITY_HOST: sim.authorityHost,
      DEFENDER_API_URL: sim.apiUrl,
      NODE_EXTRA_CA_CERTS: TEST_CA,
      ...this.storeEnv,
      ...extra
    }
  }

  /** Runs `tisync ARGS` and waits for it. */
  run(args: ReadonlyArray<string>, extraEnv: Readonly<Record<string, string>> = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { env: this.env(extraEnv), stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
      child.on("error", reject)
      child.on("close", (code) => {
        let json: unknown = null
        try {
          json = JSON.parse(stdout)
        } catch {
          json = null
        }
        resolve({ code, stdout, stderr, json })
      })
    })
  }

  /** Starts `tisync ARGS` without waiting (for lock races); returns the child process. */
  spawn(args: ReadonlyArray<string>, extraEnv: Readonly<Record<string, string>> = {}) {
    return spawn(process.execPath, [BIN, ...args], { env: this.env(extraEnv), stdio: ["ignore", "pipe", "pipe"] })
  }

  async close(): Promise<void> {
    await this.tc.close()
    await this.defender.close()
    await this.dropDatabase()
  }
}

/** The policy flags every scenario uses: the simulator's owners, every type. */
export const OWNERS = "ACME Corp,Demo Community,Partner Source"
