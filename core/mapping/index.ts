// The mapping engine: JSONPath (or form field) selections written into profile properties. Shared by
// inbound profile updates and outbound response mapping; pure, no I/O.
export {
  applyMapping,
  canonicalJson,
  type MappingIssue,
  MappingMode,
  type MappingResult,
  MappingRule,
} from "./apply.ts";
export { checkExpression, formSource, isJsonPath, jsonSource, type MappingSource, select } from "./select.ts";
