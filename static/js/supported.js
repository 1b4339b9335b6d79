// Tell NHS.UK frontend its JavaScript can run here (the design system's <body> snippet, as a
// static file because the Content-Security-Policy allows no inline script). Loaded at the top of
// <body>, before anything paints, so components styled for JavaScript never flash unstyled.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " nhsuk-frontend-supported" : "");
