// Conditional reveals for radios (the contact log's call questions, templates/contacts/contact_form.html):
// a radio with data-reveals="<id>" shows that nhsuk-radios__conditional block while it is checked.
// Not the NHS.UK frontend's radios module: it marks each radio aria-expanded, an attribute a radio may
// not carry (axe-core aria-allowed-attr); aria-controls alone says what the radio shows.
const radios = () => document.querySelectorAll("input[type=radio][data-reveals]");

function sync() {
  radios().forEach((input) => {
    const target = document.getElementById(input.dataset.reveals);
    if (target) target.classList.toggle("nhsuk-radios__conditional--hidden", !input.checked);
  });
}

radios().forEach((input) => input.setAttribute("aria-controls", input.dataset.reveals));
document.addEventListener("change", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.type === "radio") sync();
});
// A page restored by the back button gets its radios back after the page has loaded.
window.addEventListener("pageshow", sync);
sync();
