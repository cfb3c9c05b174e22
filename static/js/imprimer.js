// Shows the "Imprimer" buttons, which only work with JavaScript (printing from the
// browser's menu works without it).
document.querySelectorAll(".js-imprimer").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
});
