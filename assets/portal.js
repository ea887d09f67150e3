// Small browser helpers of the imMTrax Access Portal that must work before React hydrates.
(function () {
  // The client-side router turns "#main" into a route change that moves no focus: move it here.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.skip-link");
    if (!link) return;
    var main = document.getElementById("main");
    if (!main) return;
    event.preventDefault();
    main.focus();
    main.scrollIntoView();
  });

  // A modal dialog (the session-timeout warning) keeps Tab and Shift+Tab inside itself.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Tab") return;
    var dialog = document.querySelector('[role="alertdialog"][aria-modal="true"]');
    if (!dialog) return;
    var controls = Array.prototype.filter.call(
      dialog.querySelectorAll("button, a[href], input, select, textarea, [tabindex]:not([tabindex='-1'])"),
      function (el) { return !el.disabled && el.offsetParent !== null; });
    if (!controls.length) return;
    var first = controls[0], last = controls[controls.length - 1];
    var inside = dialog.contains(document.activeElement);
    if (event.shiftKey && (document.activeElement === first || !inside)) {
      event.preventDefault(); last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
      event.preventDefault(); first.focus();
    }
  });
})();
// Confirmations of what cannot be undone (ui/components/confirm.py): Escape inside one is its "No".
(function () {
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest) return;
    var panel = event.target.closest("[data-confirm]");
    var no = panel && panel.querySelector("[data-confirm-no]");
    if (!no) return;
    event.preventDefault();
    no.click();
  });
})();
