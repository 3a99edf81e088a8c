/**
 * Spectral function: every operation has at least one tag, and each of its tags is declared in the
 * document's top-level `tags` (with a description, so the reference page can group and explain it).
 */
const METHODS = ["get", "put", "post", "delete", "patch", "options", "head", "trace"];

export default function operationTagsDefined(doc) {
  const results = [];
  const declared = new Map();
  for (const [i, tag] of (Array.isArray(doc?.tags) ? doc.tags : []).entries()) {
    declared.set(tag?.name, tag);
    if (!tag?.description) results.push({ message: `Tag "${tag?.name}" has no description.`, path: ["tags", i] });
  }
  for (const [path, item] of Object.entries(doc?.paths ?? {})) {
    for (const method of METHODS) {
      const op = item?.[method];
      if (!op || typeof op !== "object") continue;
      const tags = Array.isArray(op.tags) ? op.tags : [];
      if (!tags.length) results.push({ message: "Operation has no tag.", path: ["paths", path, method] });
      for (const [i, tag] of tags.entries())
        if (!declared.has(tag))
          results.push({
            message: `Tag "${tag}" is not declared in the top-level tags.`,
            path: ["paths", path, method, "tags", i],
          });
    }
  }
  return results;
}
