// The idle-logoff warning (NHS timeout-warning pattern). The server signs a session out after
// SESSION_IDLE_TIMEOUT without a request (followup/middleware.py); this warns SESSION_IDLE_WARNING
// before that with a modal dialog: "Stay signed in" makes a request, which counts as activity, and
// "Sign out" signs out. When the time runs out the page reloads, and the server answers with the
// log-in page saying why. Without JavaScript the dialog never opens and nothing changes.
const dialog = document.getElementById("timeout-warning");

if (dialog && typeof dialog.showModal === "function") {
  const idleMs = Number(dialog.dataset.idleSeconds) * 1000;
  const warnMs = Number(dialog.dataset.warnSeconds) * 1000;
  // The session's maximum length ends here whatever the user does.
  const endMs = Date.now() + Number(dialog.dataset.maxSeconds) * 1000;
  const stayButton = dialog.querySelector("[data-timeout-stay]");
  const timeShown = dialog.querySelector("[data-timeout-time]");
  const announcement = dialog.querySelector("[data-timeout-live]");
  const STORAGE_KEY = "followup.session-deadline"; // shared by this site's tabs: a request in one counts for all
  let deadline = 0;
  let announced = "";
  let returnFocusTo = null;

  const inWords = (ms) => {
    const seconds = Math.max(0, Math.ceil(ms / 1000));
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60);
      return `${minutes} minute${minutes === 1 ? "" : "s"}`;
    }
    return `${seconds} second${seconds === 1 ? "" : "s"}`;
  };

  // A screen reader hears the time left when the dialog opens, at each minute, then at 30 and 10 seconds.
  const spoken = (ms) => {
    const seconds = Math.ceil(ms / 1000);
    if (seconds > 30) return inWords(Math.ceil(seconds / 60) * 60000);
    return seconds > 10 ? "30 seconds" : "10 seconds";
  };

  function setDeadline(at, { share = true } = {}) {
    deadline = Math.min(at, endMs);
    if (share) {
      try {
        localStorage.setItem(STORAGE_KEY, String(deadline));
      } catch {
        // Storage refused (private browsing): this tab still counts for itself.
      }
    }
    if (deadline - Date.now() > warnMs) close();
  }

  function open() {
    if (dialog.open) return;
    returnFocusTo = document.activeElement;
    announced = "";
    dialog.showModal();
    // Near the session's maximum length another request buys no time: there is nothing to stay for.
    stayButton.hidden = endMs - Date.now() <= warnMs;
    (stayButton.hidden ? dialog.querySelector("[data-timeout-sign-out]") : stayButton).focus();
  }

  function close() {
    if (!dialog.open) return;
    dialog.close();
    if (returnFocusTo && document.contains(returnFocusTo)) returnFocusTo.focus();
  }

  function tick() {
    const left = deadline - Date.now();
    if (left <= 0) {
      clearInterval(timer);
      // One second past the server's own deadline: its next answer is the log-in page saying why.
      setTimeout(() => window.location.replace(window.location.pathname + window.location.search), 1000);
      return;
    }
    if (left <= warnMs) {
      open();
      timeShown.textContent = inWords(left);
      const words = spoken(left);
      if (words !== announced) {
        announced = words;
        announcement.textContent = `You will be signed out in ${words}.`;
      }
    }
  }

  async function staySignedIn() {
    try {
      const response = await fetch(dialog.dataset.stayUrl, {
        method: "POST",
        headers: { "X-CSRFToken": dialog.querySelector("[name=csrfmiddlewaretoken]").value, Accept: "application/json" },
        credentials: "same-origin",
        redirect: "manual", // signed out already: the server answers with a redirect to log in
      });
      if (!response.ok) throw new Error(`Stay signed in answered ${response.status}`);
      const { seconds_left: secondsLeft } = await response.json();
      setDeadline(Date.now() + secondsLeft * 1000);
      tick();
    } catch {
      window.location.replace(window.location.pathname + window.location.search);
    }
  }

  stayButton.addEventListener("click", staySignedIn);
  // Escape keeps the session too, as "Stay signed in" does.
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    if (!stayButton.hidden) staySignedIn();
  });
  // A request from this page without a reload (an inline action on a worklist row) counts as well.
  document.addEventListener("htmx:afterRequest", () => setDeadline(Date.now() + idleMs));
  window.addEventListener("storage", (event) => {
    if (event.key === STORAGE_KEY && Number(event.newValue) > deadline) {
      setDeadline(Number(event.newValue), { share: false });
    }
  });
  document.addEventListener("visibilitychange", tick);

  setDeadline(Date.now() + Number(dialog.dataset.secondsLeft) * 1000);
  const timer = setInterval(tick, 1000);
}
