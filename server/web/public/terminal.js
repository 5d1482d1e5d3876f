/* global window, document, navigator, WebSocket, ResizeObserver */
// The lab page terminal: xterm.js drawing, a WebSocket to the server's line discipline. Keys go
// to the server as typed; the server echoes, edits, completes and runs kubectl. History is kept
// in this browser (localStorage) and handed to the server when the terminal connects.
(function () {
  'use strict';
  var pane = document.getElementById('terminal');
  if (!pane || pane.getAttribute('data-state') !== 'on') return;
  var screen = document.getElementById('terminal-screen');
  var status = document.getElementById('terminal-status');
  var reconnect = document.getElementById('terminal-reconnect');
  if (typeof window.Terminal !== 'function' || !window.FitAddon) {
    status.textContent = 'the terminal could not load its scripts: reload the page';
    return;
  }
  var HISTORY_KEY = 'kubelab.terminal.history';
  var MAX_HISTORY = 500;

  function loadHistory() {
    try {
      var h = JSON.parse(window.localStorage.getItem(HISTORY_KEY) || '[]');
      return Array.isArray(h) ? h.slice(-MAX_HISTORY) : [];
    } catch {
      return [];
    }
  }
  function remember(line) {
    var h = loadHistory();
    if (h[h.length - 1] === line) return;
    h.push(line);
    try {
      window.localStorage.setItem(HISTORY_KEY, JSON.stringify(h.slice(-MAX_HISTORY)));
    } catch {
      // storage full or off: history lasts until the page closes
    }
  }

  var term = new window.Terminal({
    screenReaderMode: true,
    // A steady cursor for those who asked their system for less motion.
    cursorBlink: !window.matchMedia('(prefers-reduced-motion: reduce)').matches,
    // Narrow screens get a smaller font: more of kubectl's table fits before it wraps.
    fontSize: window.matchMedia('(max-width: 600px)').matches ? 11.5 : 13,
    lineHeight: 1.15,
    scrollback: 3000,
    fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace',
    // Colours readable on the dark background (WCAG AA and better): red for refusals, grey for notes.
    theme: {
      background: '#0f172a',
      foreground: '#e2e8f0',
      cursor: '#e2e8f0',
      selectionBackground: '#475569',
      red: '#fca5a5',
      brightRed: '#fecaca',
      green: '#86efac',
      yellow: '#fde68a',
      blue: '#93c5fd',
    },
  });
  var fit = new window.FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(screen);
  fit.fit();

  var ws;
  function send(message) {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(message));
  }
  function copySelection() {
    var text = term.getSelection();
    if (!text) return false;
    if (navigator.clipboard && navigator.clipboard.writeText)
      navigator.clipboard.writeText(text).catch(function () {});
    return true;
  }
  // Copy and paste with the usual keys: Ctrl-C copies when text is selected (else it stops the
  // command), Ctrl-Shift-C copies, Ctrl-V and Ctrl-Shift-V paste through the browser's paste event.
  term.attachCustomKeyEventHandler(function (e) {
    if (e.type !== 'keydown') return true;
    var key = (e.key || '').toLowerCase();
    var mod = e.ctrlKey || e.metaKey;
    if (mod && key === 'c' && (e.shiftKey || e.metaKey || term.hasSelection())) {
      copySelection();
      term.clearSelection();
      e.preventDefault();
      return false;
    }
    if (mod && key === 'v') return false;
    return true;
  });
  term.onData(function (data) {
    send({ type: 'input', data: data });
  });

  function connect() {
    reconnect.hidden = true;
    status.textContent = 'connecting…';
    var scheme = window.location.protocol === 'https:' ? 'wss://' : 'ws://';
    ws = new WebSocket(
      scheme + window.location.host + '/terminal/' + encodeURIComponent(pane.getAttribute('data-lab')),
    );
    ws.onopen = function () {
      status.textContent = 'connected';
      send({ type: 'hello', history: loadHistory(), cols: term.cols, rows: term.rows });
    };
    ws.onmessage = function (event) {
      var m;
      try {
        m = JSON.parse(event.data);
      } catch {
        return;
      }
      if (m.type === 'output') term.write(m.data);
      else if (m.type === 'history') remember(m.line);
      else if (m.type === 'unavailable') term.write('\r\n\x1b[31mkubelab: ' + m.message + '\x1b[0m\r\n');
    };
    ws.onclose = function () {
      status.textContent = 'disconnected';
      reconnect.hidden = false;
    };
  }
  reconnect.addEventListener('click', function () {
    term.write('\r\n');
    connect();
    term.focus();
  });

  var resizing;
  new ResizeObserver(function () {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(function () {
      fit.fit();
      send({ type: 'resize', cols: term.cols, rows: term.rows });
    }, 50);
  }).observe(screen);

  connect();
})();
