// Enhancement only: every page works without it. Starts the NHS.UK components (header menu, error summary focus).
import { initAll } from './nhsuk-frontend.min.js';

initAll();
