// bpmnlint's shipped configuration, a CommonJS module without declarations.
declare module 'bpmnlint/config/recommended' {
  const config: { rules: Record<string, unknown> };
  export = config;
}
