// "Today" beside each date that records when something happened (an NHS.UK date input marked
// data-today, templates/includes/date_input.html): one press fills its day, month and year with
// today's date, so entering it stays a choice the user makes. Without JavaScript the date is typed
// as any other; the server checks it either way (followup/dates.py).
for (const dateInput of document.querySelectorAll(".nhsuk-date-input[data-today]")) {
  const boxes = {
    day: dateInput.querySelector('[data-part="day"]'),
    month: dateInput.querySelector('[data-part="month"]'),
    year: dateInput.querySelector('[data-part="year"]'),
  };
  if (!boxes.day || !boxes.month || !boxes.year) continue;
  const legend = dateInput.closest("fieldset")?.querySelector("legend");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "nhsuk-button nhsuk-button--secondary nhsuk-button--small app-today";
  button.textContent = "Today";
  const name = document.createElement("span");
  name.className = "nhsuk-u-visually-hidden";
  name.textContent = ` for ${legend ? legend.textContent.trim() : "this date"}`;
  button.append(name);
  button.addEventListener("click", () => {
    const now = new Date();
    boxes.day.value = String(now.getDate());
    boxes.month.value = String(now.getMonth() + 1);
    boxes.year.value = String(now.getFullYear());
    for (const box of Object.values(boxes)) box.dispatchEvent(new Event("change", { bubbles: true }));
    boxes.day.focus();
  });
  dateInput.append(button);
}
