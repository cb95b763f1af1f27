// The route map is wider than a phone: when its right end, the dashboards
// and reports business users look for, is out of view, show a cue that
// scrolls there. The map works without this script.
(function () {
  var box = document.querySelector(".rm-scroll");
  var cue = document.querySelector(".rm-cue");
  if (!box || !cue) { return; }
  function update() { cue.hidden = box.scrollLeft + box.clientWidth >= box.scrollWidth - 4; }
  cue.addEventListener("click", function (e) {
    e.preventDefault();
    box.scrollLeft = box.scrollWidth;
    update();
  });
  box.addEventListener("scroll", update);
  window.addEventListener("resize", update);
  update();
})();
