// A radio's conditional reveal (followup.fields.Radios ``reveals``): the question under a choice is
// shown while that choice is chosen. Not the design system's own Radios module, which marks each radio
// aria-expanded: not an attribute a radio may have (axe aria-allowed-attr), so a screen reader is told
// nothing misleading; the revealed question follows its radio in the reading order.
const HIDDEN = "nhsuk-radios__conditional--hidden";

function sync(group) {
  group.querySelectorAll("input[data-reveals]").forEach((input) => {
    const target = document.getElementById(input.dataset.reveals);
    if (target) target.classList.toggle(HIDDEN, !input.checked);
  });
}

document.querySelectorAll("[data-app-reveal]").forEach((group) => {
  sync(group);
  group.addEventListener("change", () => sync(group));
});
