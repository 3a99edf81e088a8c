/** The document is plain JSON once generated: these helpers walk and patch it. */
export type Json = Record<string, any>;

export const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "options", "head", "trace"] as const;
