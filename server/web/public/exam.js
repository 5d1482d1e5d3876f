/* global window, document, setInterval, clearInterval */
// The exam countdown. The server sends the time left when the page loads (its clock, not the
// browser's); at zero the page reloads and the server, which enforces the deadline, shows the score.
(function () {
  var el = document.getElementById('timer');
  var out = document.getElementById('timer-value');
  if (!el || !out) return;
  var end = Date.now() + Number(el.getAttribute('data-remaining-ms'));
  function pad(n) {
    return n < 10 ? '0' + n : String(n);
  }
  function tick() {
    var left = Math.max(0, end - Date.now());
    var s = Math.floor(left / 1000);
    out.textContent = Math.floor(s / 3600) + ':' + pad(Math.floor(s / 60) % 60) + ':' + pad(s % 60);
    el.classList.toggle('timer-low', left < 5 * 60 * 1000);
    if (left <= 0) {
      clearInterval(timer);
      window.location.reload();
    }
  }
  var timer = setInterval(tick, 1000);
  tick();
})();
