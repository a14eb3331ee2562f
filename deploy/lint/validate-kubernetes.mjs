// Validates Kubernetes objects against the API's schemas (kubernetes-models' generated validators).
//   node validate-kubernetes.mjs <node_modules folder> <objects.json>
// objects.json: [{"source": "file.yaml#2", "object": {...}}, ...]. Prints one line per problem; exit 1 when any.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, input] = process.argv.slice(2);
const objects = JSON.parse(readFileSync(input, "utf8"));
let problems = 0;
for (const { source, object } of objects) {
  const { apiVersion, kind } = object;
  // apps/v1 -> apps/v1, v1 -> v1 (the core group); the module is named after the kind.
  const file = join(modules, "kubernetes-models", apiVersion, `${kind}.js`);
  let model;
  try {
    model = (await import(pathToFileURL(file).href))[kind];
  } catch {
    console.log(`${source}: no schema for ${apiVersion} ${kind}`);
    problems++;
    continue;
  }
  try {
    new model(object).validate();
  } catch (error) {
    console.log(`${source}: ${apiVersion} ${kind} ${object.metadata?.name}: ${error.message}`);
    problems++;
  }
}
console.log(`${objects.length} objects, ${problems} problems`);
process.exit(problems === 0 ? 0 : 1);
