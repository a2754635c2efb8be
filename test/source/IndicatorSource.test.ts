import { indicatorSourceConformance } from "./IndicatorSourceConformance.js"
import { hmacAuth, memoryImplementation, simulatorImplementation, tokenAuth } from "./SourceFixtures.js"

indicatorSourceConformance("in-memory fake", memoryImplementation)
indicatorSourceConformance("ThreatConnect adapter + simulator, HMAC", simulatorImplementation(hmacAuth))
indicatorSourceConformance("ThreatConnect adapter + simulator, TC-Token", simulatorImplementation(tokenAuth))
