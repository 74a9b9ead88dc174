// Enhancement only: the bulk action page works without it ("Refresh progress" reloads the page). While the bulk
// action runs, this follows its progress through the API (the same getBulkOperation the page reads, on the session
// cookie) and updates the counts, each case's outcome and the status in place, saying what changed in a polite live
// region; it stops when the action has finished or was stopped. A separate file: the pages allow no inline script.

const POLL_MS = 1_000;
// The page's words and tag colours for each outcome (web/ops-bulk.ts, ops-bulk.njk).
const OUTCOMES = {
  pending: { text: 'To do', tag: 'nhsuk-tag--white' },
  succeeded: { text: 'Done', tag: 'nhsuk-tag--green' },
  failed: { text: 'Failed', tag: 'nhsuk-tag--red' },
  skipped: { text: 'Skipped', tag: 'nhsuk-tag--grey' },
};
const STATUS_TEXT = {
  previewed: 'Preview, not applied',
  running: 'Running',
  cancelled: 'Stopped',
  completed: 'Completed',
};

const londonDateTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

function followProgress() {
  const section = document.getElementById('bulk-progress');
  if (!section || section.dataset.status !== 'running') return;
  const id = section.dataset.operationId;
  const live = document.getElementById('bulk-live');
  const rows = new Map([...section.querySelectorAll('tr[data-case-id]')].map((row) => [row.dataset.caseId, row]));
  let lastDone = -1;

  const show = (operation) => {
    const { progress } = operation;
    const done = progress.total - progress.pending;
    const doneText = section.querySelector('[data-progress-done]');
    if (doneText) doneText.textContent = String(done);
    for (const counter of section.querySelectorAll('[data-count]')) {
      counter.textContent = String(progress[counter.dataset.count] ?? 0);
    }
    for (const c of operation.cases) {
      const row = rows.get(c.caseId);
      if (!row) continue;
      const outcome = OUTCOMES[c.outcome] ?? OUTCOMES.pending;
      const tag = row.querySelector('[data-outcome] .nhsuk-tag');
      if (tag) {
        tag.className = `nhsuk-tag ${outcome.tag}`;
        tag.textContent = outcome.text;
      }
      row.querySelector('[data-detail]').textContent = c.detail ?? '';
      row.querySelector('[data-done-at]').textContent = c.doneAt ? londonDateTime.format(new Date(c.doneAt)) : '';
    }
    const status = document.querySelector('[data-status-text]');
    if (status) status.textContent = STATUS_TEXT[operation.status] ?? operation.status;
    const finishedAt = document.querySelector('[data-finished-at]');
    if (finishedAt && operation.finishedAt)
      finishedAt.textContent = londonDateTime.format(new Date(operation.finishedAt));
    section.dataset.status = operation.status;
    const finished = operation.status !== 'running';
    if (finished) for (const part of section.querySelectorAll('[data-while-running]')) part.hidden = true;
    // Said only when something changed, so a screen reader is not told the same thing every second.
    if (live && (done !== lastDone || finished)) {
      live.textContent = `${done} of ${progress.total} cases done${finished ? `. ${STATUS_TEXT[operation.status]}.` : '.'}`;
    }
    lastDone = done;
    return finished;
  };

  const poll = async () => {
    try {
      const response = await fetch(`/api/v1/ops/bulk-operations/${encodeURIComponent(id)}`, {
        credentials: 'same-origin',
        headers: { accept: 'application/json' },
      });
      if (response.ok && show(await response.json())) return;
    } catch {
      // Offline for a moment: the next round tries again, and what is shown stays as it was.
    }
    setTimeout(poll, POLL_MS);
  };
  setTimeout(poll, POLL_MS);
}

followProgress();
