// A click in the new key's field selects all of it, ready to copy.
document.getElementById("api-key").addEventListener("click", function (event) {
  event.target.select();
});
