/**
 * The form designer's live preview (web/views/designer-form.njk): as the schema or an example is edited, the page's
 * own form is posted as "Check and preview" and the preview panel of the answer replaces the one shown. Enhancement
 * only: without it the button does the same, a page at a time. Install is never posted from here.
 */
const form = document.querySelector<HTMLFormElement>('#form-editor');
const panel = document.querySelector<HTMLElement>('#form-preview-panel');
const WAIT_MS = 600;

if (form && panel) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let latest = 0;
  panel.setAttribute('aria-busy', 'false');

  const refresh = async (): Promise<void> => {
    const asked = ++latest;
    const body = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (typeof value === 'string') body.append(name, value);
    body.set('action', 'preview');
    panel.setAttribute('aria-busy', 'true');
    try {
      // getAttribute: `form.action` would be the form's buttons named "action", not its address.
      const response = await fetch(form.getAttribute('action') ?? location.pathname, {
        method: 'POST',
        body,
        credentials: 'same-origin',
        headers: { Accept: 'text/html' },
      });
      const page = new DOMParser().parseFromString(await response.text(), 'text/html');
      const answered = page.querySelector('#form-preview-panel');
      // An older answer arriving after a newer one is dropped; so is a page without a panel (signed out, an error).
      if (asked !== latest) return;
      if (answered) panel.innerHTML = answered.innerHTML;
      else
        panel.querySelector('#form-check')!.textContent = 'The preview could not be updated: press Check and preview.';
    } catch {
      if (asked === latest)
        panel.querySelector('#form-check')!.textContent = 'The preview could not be updated: press Check and preview.';
    } finally {
      if (asked === latest) panel.setAttribute('aria-busy', 'false');
    }
  };

  for (const id of ['form-schema', 'form-submission', 'form-invalid'])
    document.getElementById(id)?.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => void refresh(), WAIT_MS);
    });
  // The first preview without a press, so the form is seen as soon as it is opened.
  if (!panel.querySelector('#form-preview')) void refresh();
}
