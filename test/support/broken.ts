/**
 * Broken copies of a response body, for comparing validators on invalid input: other shapes
 * altogether, and one value, array or property changed at a time at a handful of places.
 */
export function brokenCopies(body: unknown): unknown[] {
  const copies: unknown[] = [null, 42, "text", [], {}, [body], { unexpected: true }];
  const edits: ((node: any, key: string | number) => void)[] = [
    (node, key) => (node[key] = typeof node[key] === "string" ? 12345 : typeof node[key] === "number" ? "12345" : node[key] === null ? {} : null),
    (node, key) => (node[key] = Array.isArray(node[key]) ? { not: "an array" } : [node[key]]),
    (node, key) => (Array.isArray(node) ? node.push(node[key as number], "extra") : delete node[key]),
    (node, key) => (node[key] = typeof node[key] === "string" ? `${node[key]} §\u00e9` : "not-a-date"),
  ];
  // The first and the last child at each depth, up to 12 places.
  const places: (string | number)[][] = [];
  const visit = (node: unknown, path: (string | number)[]) => {
    if (typeof node !== "object" || node === null || places.length >= 12) return;
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, index) => index) : Object.keys(node);
    for (const key of new Set([keys[0], keys.at(-1)])) {
      if (key === undefined) continue;
      places.push([...path, key]);
      visit((node as any)[key], [...path, key]);
    }
  };
  visit(body, []);
  for (const path of places) {
    for (const edit of edits) {
      const copy = structuredClone(body);
      const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], copy);
      edit(parent, path.at(-1)!);
      copies.push(copy);
    }
  }
  return copies;
}
