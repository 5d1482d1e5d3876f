/* global window, document, fetch, EventSource */
// Live progress while the real cluster is created: starts the job with a POST, then follows its
// server-sent events. Without this script the form posts and the page shows the progress so far.
(function () {
  'use strict';

  var section = document.getElementById('provision-progress');
  var log = document.getElementById('provision-log');
  var status = document.getElementById('provision-status');
  var form = document.getElementById('provision-form');
  var button = document.getElementById('provision-button');
  if (!section || !log || !status || !window.EventSource) return;

  function line(text, className) {
    var li = document.createElement('li');
    if (className) li.className = className;
    li.textContent = text;
    log.appendChild(li);
  }

  function follow() {
    log.replaceChildren();
    status.textContent = 'Creating the cluster…';
    if (button) button.disabled = true;
    var source = new EventSource('/api/cluster/provision/events');
    source.addEventListener('progress', function (e) {
      var m = JSON.parse(e.data);
      var ev = m.event;
      line((ev.elapsedMs / 1000).toFixed(1) + ' s  ' + ev.step + (ev.detail ? ': ' + ev.detail : ''));
    });
    source.addEventListener('done', function (e) {
      var m = JSON.parse(e.data);
      line('Ready: ' + m.description, 'ok');
      status.textContent = 'The cluster is ready. Labs now run on it.';
      source.close();
    });
    source.addEventListener('failed', function (e) {
      var m = JSON.parse(e.data);
      line(m.message + (m.hint ? ' ' + m.hint : ''), 'bad');
      status.textContent = 'Creating the cluster failed.';
      if (button) {
        button.disabled = false;
        button.textContent = 'Try again';
      }
      source.close();
    });
    source.addEventListener('idle', function () {
      source.close();
    });
  }

  if (form) {
    form.addEventListener('submit', function (event) {
      if (!window.fetch) return;
      event.preventDefault();
      fetch('/api/cluster/provision', { method: 'POST', credentials: 'same-origin' })
        .then(function (r) {
          return r.json();
        })
        .then(function (data) {
          if (data && data.error) {
            status.textContent = data.error.message;
            return;
          }
          follow();
        });
    });
  }

  if (section.getAttribute('data-state') === 'running') follow();
})();
