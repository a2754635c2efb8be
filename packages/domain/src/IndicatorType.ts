import { Schema } from "effect"

/** Defender's indicator types that tisync exports (reference/defender-api.md §2). */
export const DefenderIndicatorType = Schema.Literal("IpAddress", "DomainName", "Url", "FileMd5", "FileSha1", "FileSha256")
export type DefenderIndicatorType = typeof DefenderIndicatorType.Type

export const FILE_INDICATOR_TYPES: ReadonlyArray<DefenderIndicatorType> = ["FileMd5", "FileSha1", "FileSha256"]
export const isFileIndicatorType = (t: DefenderIndicatorType): boolean => FILE_INDICATOR_TYPES.includes(t)

/** The indicator types a policy may select (DESIGN §7 `indicatorTypes`): MD5/SHA1/SHA256 all read ThreatConnect File. */
export const PolicyIndicatorType = Schema.Literal("Address", "MD5", "SHA1", "SHA256", "Host", "URL")
export type PolicyIndicatorType = typeof PolicyIndicatorType.Type
