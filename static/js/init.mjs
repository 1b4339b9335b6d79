// Start the NHS.UK frontend components (header menu, skip link, error summary...).
import { initAll } from "../vendor/nhsuk/nhsuk-frontend.min.js";
import "./reveal.mjs";

initAll();
