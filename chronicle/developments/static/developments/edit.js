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

// Django's country picker labels its filter boxes with an icon carrying aria-label; give the
// icon the role that permits it (it is built on load, so wait for that).
window.addEventListener("load", function () {
  setTimeout(function () {
    document.querySelectorAll(".search-label-icon[aria-label]").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }, 0);
});
