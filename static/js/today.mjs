// "Today" beside each date that records when something happened (data-today): one press fills in
// today's date, so entering it stays a choice the user makes. Without JavaScript the date is typed
// as any other; the server checks it either way (followup/dates.py).
const pad = (number) => String(number).padStart(2, "0");

function localToday() {
  const now = new Date();
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

for (const input of document.querySelectorAll('input[type="date"][data-today]')) {
  const label = document.querySelector(`label[for="${input.id}"]`);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "nhsuk-button nhsuk-button--secondary nhsuk-button--small app-today";
  button.textContent = "Today";
  const name = document.createElement("span");
  name.className = "nhsuk-u-visually-hidden";
  name.textContent = ` for ${label ? label.textContent.trim() : "this date"}`;
  button.append(name);
  button.addEventListener("click", () => {
    input.value = localToday();
    input.dispatchEvent(new Event("change", { bubbles: true }));
    input.focus();
  });
  input.after(button);
}
