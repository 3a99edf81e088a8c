export * from "./schemas/assets";
export * from "./schemas/auth";
export * from "./schemas/credits";
export * from "./schemas/payments";
export * from "./schemas/platform";
export * from "./schemas/predictions";
export * from "./schemas/throttles";
export * from "./schemas/webhooks";
