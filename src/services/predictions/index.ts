export type { PredictionRow } from "../../db/schemas/predictions";
/** What a prediction is: its creation and charge, its lifecycle with the provider, and its reads. */
export { acceptedInput, createPrediction } from "./create";
export {
  cancelPrediction,
  type Finish,
  finishPrediction,
  type LifecycleDeps,
  MIN_SYNC_INTERVAL_MS,
  readOwnedPrediction,
  refreshAndWait,
  refreshPrediction,
  syncFromProvider,
} from "./lifecycle";
export {
  findPrediction,
  findPredictionView,
  type ListFilters,
  listPredictions,
  loadRow,
  sandboxPredictionInput,
} from "./queries";
export { CALLBACK_SETTLE_SECONDS, type SettleDeps, settleCompletion } from "./settle";
