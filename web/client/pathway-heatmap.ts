/**
 * The pathway heatmap's diagram (web/ops-pathway.ts): draws the version's BPMN with bpmn-js's viewer and puts a
 * badge on each element that has cases, in words and colour ("3 running · 1 overdue · 2 failing"), each count a
 * link to those cases. Enhancement only: the table under the diagram has the same counts and links without it.
 * Its data comes from a JSON block on the page, never from an inline script (the pages' CSP forbids them).
 */
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import type Canvas from 'diagram-js/lib/core/Canvas';
import type ElementRegistry from 'diagram-js/lib/core/ElementRegistry';
import type Overlays from 'diagram-js/lib/features/overlays/Overlays';
import './pathway-heatmap.css';

/** What web/ops-pathway.ts puts in the page's `#pathway-heatmap-data` block. */
interface HeatmapData {
  readonly xml: string;
  readonly elements: readonly {
    readonly elementId: string;
    readonly name: string;
    readonly counts: readonly { readonly category: Category; readonly count: number; readonly href: string }[];
  }[];
}
type Category = 'running' | 'overdue' | 'failing';

/** The least zoom the diagram opens at: a long pathway fitted whole would be too small to read. */
const READABLE_ZOOM = 0.75;

interface Bounds {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

function badgeOf(element: HeatmapData['elements'][number], canvas: Canvas): HTMLElement {
  const badge = document.createElement('span');
  badge.className = 'app-heatmap-badge';
  element.counts.forEach(({ category, count, href }, index) => {
    if (index > 0) badge.append(' · ');
    const link = document.createElement('a');
    link.href = href;
    link.className = `app-heatmap-badge__count app-heatmap-badge__count--${category}`;
    link.textContent = `${count} ${category}`;
    // Said in full to a screen reader, which hears the links out of the diagram's picture.
    link.setAttribute('aria-label', `${count} ${category} at ${element.name}`);
    // A badge reached by keyboard may be off the part of the diagram on view: bring its element into view.
    link.addEventListener('focus', () => canvas.scrollToElement(element.elementId, 40));
    badge.append(link);
  });
  return badge;
}

/** The most pressing state of an element, for its shape's tint (the badge says it in words). */
function markerOf(element: HeatmapData['elements'][number]): string {
  const has = (category: Category) => element.counts.some((c) => c.category === category && c.count > 0);
  return has('failing') ? 'app-heatmap--failing' : has('overdue') ? 'app-heatmap--overdue' : 'app-heatmap--running';
}

/** Shows `shape` in the middle of the diagram's box at `scale`. */
function centreOn(canvas: Canvas, shape: Bounds, scale: number): void {
  const { outer } = canvas.viewbox();
  const width = outer.width / scale;
  const height = outer.height / scale;
  canvas.viewbox({
    x: shape.x + shape.width / 2 - width / 2,
    y: shape.y + shape.height / 2 - height / 2,
    width,
    height,
  });
}

/** Zoom buttons (the viewer also zooms with Ctrl and the mouse wheel, and pans by dragging). */
function zoomControls(canvas: Canvas): HTMLElement {
  const controls = document.createElement('div');
  controls.className = 'app-pathway-diagram__controls';
  const button = (text: string, onClick: () => void) => {
    const element = document.createElement('button');
    element.type = 'button';
    element.className = 'nhsuk-button nhsuk-button--secondary nhsuk-button--small';
    element.textContent = text;
    element.addEventListener('click', onClick);
    controls.append(element);
  };
  button('Zoom in', () => canvas.zoom(canvas.zoom() * 1.25));
  button('Zoom out', () => canvas.zoom(canvas.zoom() / 1.25));
  button('Whole diagram', () => canvas.zoom('fit-viewport'));
  return controls;
}

async function showHeatmap(): Promise<void> {
  const container = document.getElementById('pathway-diagram');
  const source = document.getElementById('pathway-heatmap-data');
  if (!container || !source?.textContent) return;
  const data = JSON.parse(source.textContent) as HeatmapData;
  container.replaceChildren();
  container.classList.add('app-pathway-diagram--drawn');
  const viewer = new NavigatedViewer({ container });
  try {
    await viewer.importXML(data.xml);
  } catch {
    container.classList.remove('app-pathway-diagram--drawn');
    const note = document.createElement('p');
    note.textContent = 'The diagram could not be drawn. The table below has the same counts.';
    container.replaceChildren(note);
    return;
  }
  const canvas = viewer.get<Canvas>('canvas');
  const overlays = viewer.get<Overlays>('overlays');
  const registry = viewer.get<ElementRegistry>('elementRegistry');
  // An element the diagram does not draw (no shape in its BPMN DI) has its counts in the table only.
  const drawn = data.elements.filter((element) => registry.get(element.elementId));
  for (const element of drawn) {
    canvas.addMarker(element.elementId, markerOf(element));
    // Never smaller than its text's own size, however far the diagram is zoomed out.
    overlays.add(element.elementId, 'heatmap', {
      position: { top: -34, left: -6 },
      scale: { min: 1 },
      html: badgeOf(element, canvas),
    });
  }
  container.before(zoomControls(canvas));
  // The whole pathway when it is readable so; else the busiest element (the first: they come busiest first).
  const busiest = drawn[0] ? (registry.get(drawn[0].elementId) as unknown as Bounds) : undefined;
  if (canvas.zoom('fit-viewport') < READABLE_ZOOM && busiest) centreOn(canvas, busiest, READABLE_ZOOM);
  container.setAttribute('data-heatmap-ready', 'true');
}

void showHeatmap();
