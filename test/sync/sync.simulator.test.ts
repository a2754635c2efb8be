import { syncScenarios } from "./SyncScenarios.js"
import { simulatorWorld } from "./SyncWorld.js"

syncScenarios("PGlite store, ThreatConnect and Defender adapters against their simulators", simulatorWorld)
