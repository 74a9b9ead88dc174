/**
 * The visual diff of two pathway versions (web/designer.ts): both diagrams drawn with bpmn-js's viewer side by side,
 * the older with its removed elements marked, the newer with its added and changed ones, each marker also said in
 * words in a badge. Enhancement only: the tables on the page list the same changes without it.
 */
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import type Canvas from 'diagram-js/lib/core/Canvas';
import type ElementRegistry from 'diagram-js/lib/core/ElementRegistry';
import type Overlays from 'diagram-js/lib/features/overlays/Overlays';
import './pathway-diff.css';

type Change = 'added' | 'removed' | 'changed';

/** What web/designer.ts puts in the page's `#pathway-diff-data` block. */
interface DiffData {
  readonly before: { readonly xml: string; readonly label: string };
  readonly after: { readonly xml: string; readonly label: string };
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

const WORDS: Record<Change, string> = { added: 'Added', removed: 'Removed', changed: 'Changed' };

async function draw(container: HTMLElement, xml: string, marks: Record<Change, readonly string[]>): Promise<number> {
  const viewer = new NavigatedViewer({ container });
  await viewer.importXML(xml);
  const canvas = viewer.get<Canvas>('canvas');
  const registry = viewer.get<ElementRegistry>('elementRegistry');
  const overlays = viewer.get<Overlays>('overlays');
  let marked = 0;
  for (const [change, ids] of Object.entries(marks) as [Change, readonly string[]][]) {
    for (const id of ids) {
      const element = registry.get(id);
      if (!element) continue;
      canvas.addMarker(id, `app-diff--${change}`);
      // Flows are thin: their badge would hide the diagram; the colour and the table say it.
      if (!('waypoints' in element)) {
        const badge = document.createElement('span');
        badge.className = `app-diff-badge app-diff-badge--${change}`;
        badge.textContent = WORDS[change];
        overlays.add(id, 'diff', { position: { top: -24, left: 0 }, scale: { min: 1 }, html: badge });
      }
      marked += 1;
    }
  }
  canvas.zoom('fit-viewport');
  return marked;
}

async function showDiff(): Promise<void> {
  const source = document.getElementById('pathway-diff-data');
  const before = document.getElementById('diff-before');
  const after = document.getElementById('diff-after');
  if (!source?.textContent || !before || !after) return;
  const data = JSON.parse(source.textContent) as DiffData;
  const diagrams = document.getElementById('diff-diagrams');
  for (const container of [before, after]) container.replaceChildren();
  document.body.classList.add('app-diff--drawn');
  const marked =
    (await draw(before, data.before.xml, { added: [], removed: data.removed, changed: data.changed })) +
    (await draw(after, data.after.xml, { added: data.added, removed: [], changed: data.changed }));
  diagrams?.setAttribute('data-diff-ready', String(marked));
}

void showDiff();
