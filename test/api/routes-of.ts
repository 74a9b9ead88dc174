/** `METHOD /express/path` of every route an Express router serves, read from the router itself. */
export function routesOf(router: unknown): string[] {
  const stack = (router as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] }).stack;
  return stack.flatMap((layer) =>
    layer.route
      ? Object.keys(layer.route.methods)
          .filter((m) => layer.route!.methods[m])
          .map((m) => `${m.toUpperCase()} ${layer.route!.path}`)
      : [],
  );
}
