// The live board: new sections from the server as staff tap, without reloading the page.
// The page says where its stream is (data-live-url); each event is named after a section
// (data-section) and carries that section's new HTML, made by the server's own templates.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-url]");
  if (!root || !window.EventSource) {
    return;
  }
  var status = document.getElementById("live-status");
  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }
  var source = new EventSource(root.getAttribute("data-live-url"));
  var sections = root.querySelectorAll("[data-section]");
  Array.prototype.forEach.call(sections, function (el) {
    source.addEventListener(el.getAttribute("data-section"), function (event) {
      el.innerHTML = event.data;
      var now = new Date();
      var hhmm = ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2);
      say("Up to date at " + hhmm + ". Updates by itself as staff tap.");
    });
  });
  source.addEventListener("open", function () {
    say("Updates by itself as staff tap.");
  });
  // Signed out (timed out, or signed out elsewhere): the page itself goes to sign-in.
  source.addEventListener("signed-out", function () {
    source.close();
    window.location.reload();
  });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) {
      // The server refused the stream (not signed in any more): reload to find out why.
      window.location.reload();
    } else {
      say("Reconnecting to the kiosk…");
    }
  });
})();
