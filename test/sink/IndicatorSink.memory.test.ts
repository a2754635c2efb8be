import { indicatorSinkConformance } from "./IndicatorSinkConformance.js"
import { memorySinkLayer } from "./SinkTestControls.js"

indicatorSinkConformance("in-memory fake", memorySinkLayer)
