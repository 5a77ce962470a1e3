// Live boards: an element with data-live asks its URL again every data-every milliseconds
// (the console answers the rows alone when the request says x-console-live) and replaces
// its content, unless the person is typing in it. A 401 means the session ended: reload
// into the sign-in page.
(function () {
  "use strict";
  function watch(element) {
    var every = parseInt(element.getAttribute("data-every"), 10) || 5000;
    var url = element.getAttribute("data-live");
    function refresh() {
      if (element.contains(document.activeElement) && document.activeElement !== document.body) {
        return;
      }
      fetch(url, { headers: { "x-console-live": "1" }, credentials: "same-origin" })
        .then(function (answer) {
          if (answer.status === 401) { window.location.reload(); return null; }
          return answer.ok ? answer.text() : null;
        })
        .then(function (html) {
          if (html !== null) {
            element.innerHTML = html;
            element.setAttribute("data-refreshed", String(Date.now()));
          }
        })
        .catch(function () { /* the next round tries again */ });
    }
    window.setInterval(refresh, every);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live]").forEach(watch);
  });
})();
