/** Activities the benchmarks run: as cheap as possible, so the figures measure the engine. */
export function echo(input: string): Promise<string> {
  return Promise.resolve(input);
}
