import { canonicalJson, type Policy, sha256Hex } from "@tisync/domain"

/**
 * The policy hash recorded in `RunStarted`: SHA-256 of the canonical JSON of the policy. `logLevel` is
 * left out: it changes what is logged, not what is selected or sent, so it must not force a full run.
 */
export const policyHashOf = (policy: Policy): string => {
  const { logLevel: _logLevel, ...relevant } = policy
  return sha256Hex(canonicalJson(relevant))
}
