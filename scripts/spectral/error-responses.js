/**
 * Spectral function, given a Responses Object: at least one 4xx response, and every 4xx/5xx response
 * has JSON content whose schema is a reference to the Error component (in 3.0 a nullable or described
 * reference may be wrapped as `allOf: [{$ref}]`).
 */
const ERROR_REF = "#/components/schemas/Error";

const refOf = (schema) => schema?.$ref ?? (schema?.allOf?.length === 1 ? schema.allOf[0]?.$ref : undefined);

export default function errorResponses(responses, _options, context) {
  const at = (...rest) => [...(context?.path ?? []), ...rest];
  if (!responses || typeof responses !== "object") return [];
  const results = [];
  const statuses = Object.keys(responses);
  if (!statuses.some((s) => /^4(\d\d|XX)$/.test(s)))
    results.push({ message: "Operation declares no 4xx response.", path: at() });
  for (const status of statuses) {
    if (!/^[45](\d\d|XX)$/.test(status)) continue;
    const content = responses[status]?.content;
    const json = content?.["application/json"];
    if (!json) {
      results.push({ message: `${status} response has no application/json content.`, path: at(status) });
      continue;
    }
    if (refOf(json.schema) !== ERROR_REF)
      results.push({
        message: `${status} response schema must reference ${ERROR_REF}.`,
        path: at(status, "content", "application/json", "schema"),
      });
  }
  return results;
}
