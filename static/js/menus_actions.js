// The "Actions" menus of the edit controls (templates/diagnostics/edition/) are <details>
// elements: they open and work without JavaScript. This only adds what a menu is
// expected to do: one menu open at a time, Escape closes it and gives the focus back to
// its summary, a click elsewhere closes it.
(function () {
  var menus = document.querySelectorAll("details.menu-actions");

  function closeAll(except) {
    menus.forEach(function (menu) {
      if (menu !== except && menu.open) {
        menu.open = false;
      }
    });
  }

  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (menu.open) {
        closeAll(menu);
      }
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest("details.menu-actions")) {
      closeAll(null);
    }
  });
})();
