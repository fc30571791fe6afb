// Demand forecasts with reorder points: the public surface of the forecast model kind.
export { trainForecast, type ForecastArtifact, type ForecastParams, type ProductForecast, type Band } from './train.ts';
export { evaluateForecast, evaluateForecastDetailed, type ForecastEvaluation, type ForecastEvalDetails } from './evaluate.ts';
export { runEngine, CANDIDATES, STRATEGIES, ENSEMBLE_MEMBERS, type EngineOptions, type EngineResult, type MethodName, type StrategyName } from './engine.ts';
export { inventoryFigures, demandOver, stockoutDay, serviceZ, type InventoryFigures, type InventoryInput } from './inventory.ts';
export { mase, rmsse, naiveScale } from './metrics.ts';
export * from './methods.ts';
export { trainGlobalModel, predictGlobal, DEFAULT_GLOBAL_CONFIG, FEATURE_NAMES, type GlobalModel, type GlobalModelConfig } from './global-model.ts';
