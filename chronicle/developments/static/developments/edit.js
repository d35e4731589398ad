// "Add another …": copy the formset's empty row and count it in TOTAL_FORMS.
document.addEventListener("click", function (event) {
  const link = event.target.closest("[data-add-row]");
  if (!link) return;
  event.preventDefault();
  const prefix = link.dataset.addRow;
  const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
  const row = document.getElementById(prefix + "-empty").innerHTML.replace(/__prefix__/g, total.value);
  link.closest("tr").insertAdjacentHTML("beforebegin", row);
  total.value = Number(total.value) + 1;
});
