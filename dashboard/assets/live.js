// The live dashboard's script: it applies each update the server pushes
// over Server-Sent Events, and says when the stream is down.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var status = document.getElementById("conn");
  var updates = 0;
  var es = new EventSource("events");
  es.addEventListener("update", function (e) {
    var d = JSON.parse(e.data);
    live.innerHTML = d.html;
    document.title = d.title;
    updates++;
    document.body.setAttribute("data-updates", String(updates));
    status.textContent = "live";
    status.className = "conn up";
  });
  es.onerror = function () {
    status.textContent = "disconnected: retrying";
    status.className = "conn down";
  };
})();
