// bpmnlint's shipped configuration, a CommonJS module without declarations.
declare module 'bpmnlint/config/recommended' {
  const config: { rules: Record<string, unknown> };
  export = config;
}

// bpmnlint's rules: each a CommonJS module exporting its factory.
declare module 'bpmnlint/rules/*' {
  const rule: unknown;
  export = rule;
}
