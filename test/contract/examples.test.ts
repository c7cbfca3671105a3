/**
 * Every response example in every bundled spec validates against its own schema, strictly: an
 * example may not carry a property that the schema does not name. (Redocly's lint checks
 * examples too, but only leniently; see redocly.yaml.)
 */
import { describe, expect, it } from "vitest";
import { APIS } from "../../src/apis.ts";
import { findResponse, jsonMediaType, resolveLocal } from "../../src/contract/document.ts";
import { formatErrors, loadContract } from "../../src/contract/index.ts";

describe.each(APIS.map((api) => api.id))("%s examples", async (id) => {
  const contract = await loadContract(id);
  const cases = contract.operations.flatMap(({ method, pathTemplate, operationId, statuses }) =>
    statuses
      .filter((status) => /^\d{3}$/.test(status))
      .flatMap((status) => {
        const operation = contract.findOperation(method, pathTemplate)!.operation;
        const { response } = findResponse(contract.document, operation, Number(status))!;
        const mediaType = jsonMediaType(response.value);
        const examples = (mediaType ? (response.value.content![mediaType] as { examples?: Record<string, unknown> }).examples : undefined) ?? {};
        return Object.entries(examples).map(([name, example]) => ({
          name: `${operationId} ${status} ${name}`,
          method,
          // A concrete path that the template matches.
          path: pathTemplate.replace(/\{[^}]+\}/g, "1"),
          status: Number(status),
          body: resolveLocal<{ value: unknown }>(contract.document, { value: example, pointer: "" }).value.value,
        }));
      }),
  );

  it("has at least one example per operation", () => {
    const withExamples = new Set(cases.map((example) => example.name.split(" ")[0]));
    const withJsonBodies = contract.operations.filter(({ statuses }) => statuses.length > 0).map((op) => op.operationId);
    expect(withJsonBodies.filter((operationId) => !withExamples.has(operationId))).toEqual([]);
  });

  it.each(cases)("$name matches its schema", ({ name, ...response }) => {
    const result = contract.validateResponse(response, { strict: true });
    expect(formatErrors(result.errors)).toBe("");
  });
});
