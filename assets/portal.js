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
})();
