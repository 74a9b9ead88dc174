// Enhancement only: every page works without it. Starts the NHS.UK components (header menu, error summary focus,
// conditional reveals), keeps the worklist fresh, and remembers a half-filled task form in this tab.
import { initAll } from './nhsuk-frontend.min.js';

initAll();

// NHS.UK frontend 10 marks a radio or checkbox that reveals questions with aria-expanded, which ARIA does not allow
// on those roles (axe: aria-allowed-attr, serious); aria-controls already ties the choice to what it reveals.
function withoutAriaExpandedOnChoices() {
  const choices = 'input[type="radio"][aria-expanded], input[type="checkbox"][aria-expanded]';
  const strip = () => document.querySelectorAll(choices).forEach((input) => input.removeAttribute('aria-expanded'));
  strip();
  new MutationObserver(strip).observe(document.body, { subtree: true, attributeFilter: ['aria-expanded'] });
}
withoutAriaExpandedOnChoices();

/**
 * The worklist reloads its results every 30 seconds, unless the person is in the middle of them (focus inside),
 * and says when it last did in a polite live region.
 */
function refreshWorklist() {
  const results = document.getElementById('worklist-results');
  const status = document.getElementById('worklist-refreshed');
  if (!results || !status) return;
  setInterval(async () => {
    if (document.hidden || results.contains(document.activeElement)) return;
    try {
      const response = await fetch(window.location.href, { credentials: 'same-origin' });
      if (!response.ok) return;
      const fresh = new DOMParser()
        .parseFromString(await response.text(), 'text/html')
        .getElementById('worklist-results');
      if (!fresh) return;
      results.replaceChildren(...fresh.childNodes);
      status.textContent = `Updated at ${new Date().toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })}`;
    } catch {
      // Offline for a moment: the next round tries again, and what is shown stays as it was.
    }
  }, 30_000);
}

/**
 * A task form's answers are kept in this tab's session storage as they are typed (never local storage: desktops
 * are shared), put back after an accidental reload, and forgotten when the form is posted. Answers the server
 * sent back (a draft, or a refused submission) win: nothing is restored over them.
 */
function rememberForms() {
  for (const form of document.querySelectorAll('form[data-remember-form]')) {
    const key = `throughcare:form:${form.dataset.rememberForm}`;
    const skip = new Set(['_csrf', 'completionId', 'action']);
    const fields = () => [...form.elements].filter((el) => el.name && !skip.has(el.name) && el.type !== 'hidden');
    const saved = sessionStorage.getItem(key);
    const serverAnswered = document.querySelector('.nhsuk-error-summary') || fields().some(hasAnswer);
    if (saved && !serverAnswered) {
      const values = JSON.parse(saved);
      for (const el of fields()) {
        const value = values[el.name];
        if (value === undefined) continue;
        if (el.type === 'radio' || el.type === 'checkbox') el.checked = [].concat(value).includes(el.value);
        else el.value = Array.isArray(value) ? value[0] : value;
        el.dispatchEvent(new Event('change', { bubbles: true }));
      }
      const note = document.createElement('p');
      note.className = 'nhsuk-body-s';
      note.setAttribute('role', 'status');
      note.textContent = 'We put back the answers you had typed in this tab but not saved.';
      form.prepend(note);
    }
    form.addEventListener('input', () => {
      const values = {};
      for (const el of fields()) {
        if ((el.type === 'radio' || el.type === 'checkbox') && !el.checked) continue;
        values[el.name] = el.name in values ? [].concat(values[el.name], el.value) : el.value;
      }
      sessionStorage.setItem(key, JSON.stringify(values));
    });
    form.addEventListener('submit', () => sessionStorage.removeItem(key));
  }
}

function hasAnswer(el) {
  return el.type === 'radio' || el.type === 'checkbox' ? el.checked : el.value !== '';
}

refreshWorklist();
rememberForms();
