// Applied before the page paints: the theme the reader chose, else the system's.
(function () {
  try {
    var chosen = localStorage.getItem("c2xc.theme");
    if (chosen === "light" || chosen === "dark") {
      document.documentElement.dataset.theme = chosen;
    }
  } catch (e) { /* storage disabled: follow the system setting */ }
})();
