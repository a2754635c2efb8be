import { syncScenarios } from "./SyncScenarios.js"
import { memoryWorld } from "./SyncWorld.js"

syncScenarios("in-memory store, source and sink fakes", memoryWorld)
