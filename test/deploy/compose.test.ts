import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { parse } from "yaml"

/**
 * Docker cannot run on the CI machine, so the deployment files are checked by reading them (issue 7
 * item 1): the services, what reaches tisync's environment, the command it runs, the pinned images.
 */
const root = path.resolve(import.meta.dirname, "../..")
const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8")

/** DESIGN §7: every variable tisync reads. */
const DESIGN_VARIABLES = [
  "TC_API_URL",
  "TC_ACCESS_ID",
  "TC_SECRET_KEY",
  "TC_API_TOKEN",
  "AZURE_TENANT_ID",
  "AZURE_CLIENT_ID",
  "AZURE_CLIENT_SECRET",
  "AZURE_CLIENT_CERTIFICATE_PATH",
  "AZURE_AUTHORITY_HOST",
  "DEFENDER_CLOUD",
  "DEFENDER_API_URL",
  "TISYNC_DATABASE_URL",
  "TISYNC_DATA_DIR"
] as const

/** DESIGN §6: the commands of the `tisync` binary. */
const TISYNC_COMMANDS = [
  "sync",
  "plan",
  "status",
  "runs",
  "history",
  "replay",
  "reconcile",
  "submit",
  "revoke",
  "migrate",
  "daemon",
  "demo"
] as const

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const field = (u: unknown, key: string): unknown => (isRecord(u) ? u[key] : undefined)

const compose: unknown = parse(read("docker-compose.yml"))
const services = field(compose, "services")
const tisync = field(services, "tisync")
const postgres = field(services, "postgres")

/** `environment` as a map, whether written as a map or as a list of `KEY=value`. */
const environmentOf = (service: unknown): Record<string, string> => {
  const env = field(service, "environment")
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.filter((x): x is string => typeof x === "string").map((x) => [x.split("=")[0] ?? "", x.slice(x.indexOf("=") + 1)])
    )
  }
  return isRecord(env) ? Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) : {}
}

/** The variable names an env file assigns (`NAME=...`), ignoring comments. */
const envFileNames = (text: string): Set<string> =>
  new Set(
    text
      .split("\n")
      .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line.trim())?.[1])
      .filter((x): x is string => x !== undefined)
  )

const envFilesOf = (service: unknown): ReadonlyArray<string> => {
  const files = field(service, "env_file")
  if (typeof files === "string") return [files]
  if (Array.isArray(files)) return files.map((f) => (typeof f === "string" ? f : String(field(f, "path"))))
  return []
}

const commandOf = (service: unknown): ReadonlyArray<string> => {
  const command = field(service, "command")
  if (typeof command === "string") return command.split(/\s+/).filter((x) => x !== "")
  return Array.isArray(command) ? command.map(String) : []
}

describe("docker-compose.yml", () => {
  it("has exactly the services postgres and tisync", () => {
    expect(isRecord(services) ? Object.keys(services).sort() : []).toEqual(["postgres", "tisync"])
  })

  it("pins PostgreSQL to a major version, keeps its data in a named volume and checks its health with pg_isready", () => {
    const image = String(field(postgres, "image"))
    expect(image).toMatch(/^postgres:\d+(\.\d+)?(-[a-z0-9]+)?$/)
    const volumes = field(postgres, "volumes")
    const named = Array.isArray(volumes) ? volumes.map(String).map((v) => v.split(":")[0] ?? "") : []
    const declared = field(compose, "volumes")
    expect(named.some((v) => isRecord(declared) && Object.hasOwn(declared, v))).toBe(true)
    expect(JSON.stringify(field(field(postgres, "healthcheck"), "test"))).toContain("pg_isready")
  })

  it("builds tisync from the Dockerfile and starts it once PostgreSQL is healthy", () => {
    expect(field(field(tisync, "build"), "dockerfile") ?? "Dockerfile").toBe("Dockerfile")
    expect(field(field(field(tisync, "depends_on"), "postgres"), "condition")).toBe("service_healthy")
    expect(field(tisync, "restart")).toBe("unless-stopped")
  })

  it("runs a real tisync command: the daemon, on a schedule", () => {
    const command = commandOf(tisync)
    const name = command[0] ?? ""
    expect(TISYNC_COMMANDS).toContain(name)
    expect(name).toBe("daemon")
    const every = command.indexOf("--every")
    expect(every).toBeGreaterThan(0)
    expect(command[every + 1]).toMatch(/^\d+\s*(s|m|h|d|seconds?|minutes?|hours?|days?)$/)
  })

  it("serves /healthz on the daemon's --health-port and checks it with the image's own node", () => {
    const command = commandOf(tisync)
    const port = command[command.indexOf("--health-port") + 1] ?? ""
    expect(port).toMatch(/^\d+$/)
    // Inside a container the probe and a scraper come from outside the loopback interface.
    expect(command[command.indexOf("--health-host") + 1]).toBe("0.0.0.0")
    const probe = JSON.stringify(field(field(tisync, "healthcheck"), "test"))
    expect(probe).toContain(`http://127.0.0.1:${port}/healthz`)
    expect(probe).toContain("node")
  })

  it("points tisync at the postgres service", () => {
    const url = environmentOf(tisync)["TISYNC_DATABASE_URL"] ?? ""
    expect(url).toMatch(/^postgres(ql)?:\/\/[^@]+@postgres:5432\/\w+$/)
  })

  it("passes every DESIGN §7 variable: through .env (documented in .env.example) or set by compose", () => {
    expect(envFilesOf(tisync)).toEqual([".env"])
    const documented = envFileNames(read(".env.example"))
    const passed = new Set(Object.keys(environmentOf(tisync)))
    const missing = DESIGN_VARIABLES.filter((v) => !documented.has(v) && !passed.has(v))
    expect(missing).toEqual([])
  })
})

describe(".env.example", () => {
  it("documents every DESIGN §7 variable", () => {
    const documented = envFileNames(read(".env.example"))
    expect(DESIGN_VARIABLES.filter((v) => !documented.has(v))).toEqual([])
  })

  it("holds no real secret: credentials are empty", () => {
    const values = new Map(
      read(".env.example")
        .split("\n")
        .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim()))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1] ?? "", m[2] ?? ""])
    )
    for (const secret of ["TC_ACCESS_ID", "TC_SECRET_KEY", "TC_API_TOKEN", "AZURE_CLIENT_SECRET", "POSTGRES_PASSWORD"]) {
      expect(values.get(secret) ?? "", secret).toBe("")
    }
  })

  it("is not shadowed by a committed .env, and .env stays out of git and of the image", () => {
    expect(read(".gitignore").split("\n")).toContain(".env")
    expect(read(".dockerignore").split("\n")).toContain(".env")
  })
})

describe("Dockerfile", () => {
  /** The instructions, without comment lines. */
  const dockerfile = read("Dockerfile")
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
  const stages = dockerfile.split(/^FROM /m).slice(1)
  const runtime = stages[stages.length - 1] ?? ""

  it("builds on node:22-slim and ships a runtime stage on node:22-slim", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    for (const stage of stages) expect(stage).toMatch(/^node:22-slim\b/)
    expect(stages[0]).toMatch(/RUN npm ci\b/)
    expect(stages[0]).toMatch(/RUN npm run build\b/)
  })

  it("installs production dependencies only, runs as a non-root user, and starts the tisync binary", () => {
    expect(runtime).toMatch(/npm ci --omit=dev/)
    expect(runtime).toMatch(/^USER (?!root\b)\S+/m)
    expect(runtime).not.toMatch(/apt-get|build-essential|python3|\bmake\b|\bgcc\b/)
    expect(runtime).toContain('ENTRYPOINT ["node", "packages/app/bin/tisync.js"]')
    expect(runtime).not.toMatch(/COPY (?!--from=build)\S*\s*packages\/\S+\/src/)
  })

  it("starts the file the app package declares as its tisync bin", () => {
    const pkg: unknown = JSON.parse(read("packages/app/package.json"))
    expect(field(field(pkg, "bin"), "tisync")).toBe("bin/tisync.js")
    expect(fs.existsSync(path.join(root, "packages/app/bin/tisync.js"))).toBe(true)
  })
})
