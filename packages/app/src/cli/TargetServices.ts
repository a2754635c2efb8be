import { Effect, Layer } from "effect"
import { ConfigError } from "../config/ConfigError.js"
import { defenderSettingsOf } from "../config/Environment.js"
import type { ResolvedTarget } from "../config/AppConfig.js"
import { type AppContext, storeSettings } from "./AppContext.js"
import { idLayer, sinkLayerOf, storeLayerOf } from "./AppLayers.js"

/**
 * The one target a command about single indicators acts on: `--target`, or the only configured one.
 * Several targets and no `--target` is a usage error (which tenant did you mean?).
 */
export const singleTarget = (context: AppContext): Effect.Effect<ResolvedTarget, ConfigError> => {
  const [first, ...rest] = context.targets
  if (first === undefined) return Effect.fail(new ConfigError({ key: "targets", reason: "no target is configured" }))
  if (rest.length > 0) {
    return Effect.fail(new ConfigError({ key: "--target", reason: "several targets are configured: name one with --target" }))
  }
  return Effect.succeed(first)
}

/** Store, Defender sink of the target, and run ids: what reconcile, submit and revoke need. */
export const targetServices = (context: AppContext, target: ResolvedTarget) =>
  Effect.map(defenderSettingsOf(context.env, target.settings), (defender) =>
    Layer.mergeAll(storeLayerOf(storeSettings(context)), sinkLayerOf(defender), idLayer)
  )
