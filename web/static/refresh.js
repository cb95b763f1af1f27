// Reload the board every data-refresh seconds, unless the reader has a
// run's details open. The board works without this script.
(function () {
  var s = parseInt(document.body.getAttribute("data-refresh"), 10);
  if (!s) { return; }
  setInterval(function () {
    if (document.querySelector("details[open]") || document.hidden) { return; }
    window.location.reload();
  }, s * 1000);
})();
