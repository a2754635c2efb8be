import { Context, type Effect } from "effect"
import type { RunId } from "./Identifiers.js"

/**
 * Source of new run ids (UUIDv7). A port, so the domain and tests stay deterministic; time comes from
 * effect's own `Clock` service (TestClock in tests), which is already a port.
 */
export class IdGenerator extends Context.Tag("@tisync/domain/IdGenerator")<
  IdGenerator,
  { readonly runId: Effect.Effect<RunId> }
>() {}
